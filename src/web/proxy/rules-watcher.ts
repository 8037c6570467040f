// RulesWatcher: keeps a rules file's rules in force while the proxy runs:
// reloads them when the file changes (watched through its directory, so that
// editors that replace the file are seen) or when asked (SIGHUP), and keeps
// the old rules when the new file is invalid, logging every bad line.
// Tests: test/unit/web/proxy/rules-watcher.test.ts, test/integration/web/proxy-rules-watcher.test.ts

import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { IDelayedCall, IReactorTime } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { Rules, RulesError } from './rules.js';

const log = new Logger('torsion.web.proxy');

/**
 * How a {@link RulesWatcher} is set up.
 *
 * @since 0.1.0
 */
export interface RulesWatcherOptions {
  /** Schedules the debounced reloads and stamps the rules' load time; pass a `Clock` in tests. */
  readonly clock: IReactorTime;
  /** Called with the new rules after a reload that changed them. */
  readonly onChange?: (rules: Rules) => void;
  /** Called when a reload fails (bad lines, or the file cannot be read); the old rules stay. */
  readonly onError?: (error: RulesError) => void;
  /** Seconds to wait after the last change seen before reloading. Default 0.2. */
  readonly debounce?: number;
  /** Whether to watch the file for changes; `false`: reload only when {@link RulesWatcher.reload} is called. Default `true`. */
  readonly watch?: boolean;
  /** Where reloads and failures are logged. Default: the namespace `torsion.web.proxy`. */
  readonly logger?: Logger;
}

/**
 * A rules file's {@link Rules}, reloaded when the file changes.
 *
 * @remarks
 * The file is loaded at construction (a bad file throws there: a proxy does
 * not start with rules it cannot read). Afterwards its directory is watched
 * (`fs.watch`), since editors often save by writing another file and
 * renaming it over the old one; changes are debounced, and the file is then
 * read again. A new text with bad lines, or a file that has gone, leaves the
 * rules in force as they were, and is logged with every bad line; the next
 * change is tried again. A text identical to the one in force changes
 * nothing.
 *
 * `stop()` ends the watching; the watch alone does not keep the process
 * running.
 *
 * @example
 * ```ts
 * const watcher = new RulesWatcher('rules.txt', { clock: reactor });
 * const filter = new RulesFilter(() => watcher.rules);
 * process.on('SIGHUP', () => watcher.reload());
 * ```
 *
 * @since 0.1.0
 */
export class RulesWatcher {
  /** The rules file's path. */
  readonly path: string;
  #rules: Rules;
  readonly #clock: IReactorTime;
  readonly #options: RulesWatcherOptions;
  readonly #debounce: number;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  /** The debounced reload, while one is waiting. */
  #pending: IDelayedCall | undefined;
  #stopped = false;

  /**
   * Loads `path` and, unless `options.watch` is `false`, starts watching it.
   *
   * @throws {@link RulesError} when the file cannot be read or has bad lines.
   * @throws RangeError for a negative or non-finite `debounce`.
   */
  constructor(path: string, options: RulesWatcherOptions) {
    const debounce = options.debounce ?? 0.2;
    if (!(debounce >= 0 && Number.isFinite(debounce))) {
      throw new RangeError(`debounce must be a number of seconds, at least 0, not ${debounce}`);
    }
    this.path = path;
    this.#clock = options.clock;
    this.#options = options;
    this.#debounce = debounce;
    this.#log = options.logger ?? log;
    this.#rules = Rules.load(path, { clock: this.#clock });
    if (options.watch ?? true) this.#startWatching();
  }

  /** The rules in force: the last good version of the file. */
  get rules(): Rules {
    return this.#rules;
  }

  /**
   * Reads the file again now (what `SIGHUP` does): a good new text replaces
   * the rules in force; a bad one, or a file that cannot be read, leaves
   * them, and is logged and given to `onError`.
   *
   * @returns Whether the file was read and is good (changed or not).
   */
  reload(): boolean {
    this.#pending?.cancel();
    this.#pending = undefined;
    let rules: Rules;
    try {
      rules = Rules.load(this.path, { clock: this.#clock });
    } catch (e) {
      const error =
        e instanceof RulesError ? e : new RulesError(this.path, [], String(e), { cause: e });
      this.#log.warn('{message}\nThe rules loaded at {loadedAt} stay in force.', {
        message: error.message,
        loadedAt: this.#rules.loadedAt,
        path: this.path,
        problems: error.problems,
      });
      this.#call('onError', error);
      return false;
    }
    if (rules.text === this.#rules.text) {
      this.#log.info('{path} is unchanged; its rules stay in force.', { path: this.path });
      return true;
    }
    this.#rules = rules;
    this.#log.info('{path}: {count} rules loaded.', {
      path: this.path,
      count: rules.rules.length,
    });
    this.#call('onChange', rules);
    return true;
  }

  /** Stops watching the file and drops a reload that is waiting. The rules stay readable. */
  stop(): void {
    this.#stopped = true;
    this.#pending?.cancel();
    this.#pending = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Watches the file's directory; events about other files are ignored. */
  #startWatching(): void {
    const name = basename(this.path);
    let watcher: FSWatcher;
    try {
      watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        // Some platforms give no file name: then any change may be ours.
        if (filename === null || filename === name) this.#changed();
      });
    } catch (e) {
      this.#log.failure('Cannot watch {path} for changes; reload it with SIGHUP.', e, {
        path: this.path,
        level: 'warn',
      });
      return;
    }
    watcher.on('error', (e: unknown) => {
      this.#log.failure('Stopped watching {path} for changes.', e, {
        path: this.path,
        level: 'warn',
      });
      watcher.close();
      if (this.#watcher === watcher) this.#watcher = undefined;
    });
    this.#watcher = watcher;
  }

  /** A change was seen: reload once no further change comes for `debounce` seconds. */
  #changed(): void {
    if (this.#stopped) return;
    if (this.#pending?.active()) this.#pending.reset(this.#debounce);
    else {
      this.#pending = this.#clock.callLater(this.#debounce, () => {
        this.#pending = undefined;
        this.reload();
      });
    }
  }

  /** Calls a user's callback; what it throws is logged. */
  #call<K extends 'onChange' | 'onError'>(
    which: K,
    arg: Parameters<NonNullable<RulesWatcherOptions[K]>>[0],
  ): void {
    const f = this.#options[which] as ((a: typeof arg) => void) | undefined;
    if (f === undefined) return;
    try {
      f(arg);
    } catch (e) {
      this.#log.failure(`The rules watcher's ${which} callback failed.`, e);
    }
  }
}
