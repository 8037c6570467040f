// Rules: the filtering proxy's rule set. Parses the rules file's small line
// format (ordered rules, last match of each kind wins, Privoxy-like actions),
// decides which rules apply to a request, using maps of exact hosts, domains
// and wildcard labels so that a thousand rules cost a few lookups, and
// explains a decision rule by rule. Twisted's web.proxy filters nothing;
// Privoxy's action files are the model.
// Tests: test/unit/web/proxy/rules.test.ts

import { readFileSync } from 'node:fs';
import { TorsionError } from '../../internet/error.js';
import type { IReactorTime } from '../../internet/interfaces.js';
import { isTokenString } from '../_tokens.js';
import { HostIndex, hashStep } from './_host-index.js';
import {
  explainPattern,
  type HostPattern,
  normalHost,
  type PatternTarget,
  parsePattern,
  patternMatches,
} from './_rule-patterns.js';
import { DEFAULT_RULES } from './default-rules.js';
import type {
  IProxyRulesView,
  ProxyExplainStep,
  ProxyExplanation,
  ProxyRuleLine,
  ProxyRulesSummary,
} from './hooks.js';

/**
 * The actions a rule can take, in pairs (the second undoes the first for the
 * hosts it names): see `docs/proxy-rules.md`.
 *
 * @since 0.1.0
 */
export type RuleAction =
  | 'block'
  | 'allow'
  | 'strip-cookies'
  | 'strip-third-party-cookies'
  | 'keep-cookies'
  | 'block-images'
  | 'allow-images'
  | 'trim-referer'
  | 'keep-referer'
  | 'strip-header'
  | 'set-header'
  | 'keep-header';

/**
 * One rule of a {@link Rules} set.
 *
 * @since 0.1.0
 */
export interface ProxyRule extends ProxyRuleLine {
  /** Where the rule came from: a file's path, or `built-in`. */
  readonly source: string;
  /** `source:line`, as block pages and explanations name the rule. */
  readonly where: string;
  /** What the rule does. */
  readonly action: RuleAction;
  /** The pattern as written (`.example.com`). */
  readonly pattern: string;
  /** For the header actions: the header's name as written; else `undefined`. */
  readonly header: string | undefined;
  /** For `set-header`: the value; else `undefined`. */
  readonly value: string | undefined;
}

/**
 * A bad line of a rules file.
 *
 * @since 0.1.0
 */
export interface RuleProblem {
  /** The line's number, from 1. */
  readonly line: number;
  /** What is wrong with it. */
  readonly reason: string;
}

/**
 * The options of a rule set (`option NAME VALUE` lines).
 *
 * @since 0.1.0
 */
export interface RulesOptions {
  /**
   * How a blocked image is answered: `gif`, a 1×1 transparent GIF (the page
   * keeps its layout); `403`, a refusal. Default `gif`.
   */
  readonly imageAnswer: 'gif' | '403';
}

/**
 * How a rule set is parsed or loaded.
 *
 * @since 0.1.0
 */
export interface RulesParseOptions {
  /** The clock whose time is the set's {@link Rules.loadedAt}. */
  readonly clock?: IReactorTime;
  /** The load time, in seconds; wins over `clock`. Default: `clock`'s time, else the wall clock's. */
  readonly loadedAt?: number;
}

/**
 * The rules that decide what happens to one request: for each kind of
 * action, the last rule of that kind whose pattern matches, or `undefined`
 * when none does.
 *
 * @since 0.1.0
 */
export interface RulesMatch {
  /** `block` or `allow`: the request is refused when this is a `block`. */
  readonly access: ProxyRule | undefined;
  /** Whether {@link RulesMatch.access} is a `block`. */
  readonly blocked: boolean;
  /** `strip-cookies`, `strip-third-party-cookies` or `keep-cookies`. */
  readonly cookies: ProxyRule | undefined;
  /** `block-images` or `allow-images`. */
  readonly images: ProxyRule | undefined;
  /** `trim-referer` or `keep-referer`. */
  readonly referer: ProxyRule | undefined;
  /** `strip-header`, `set-header` or `keep-header`: the last of each header name, in rule order. */
  readonly headers: readonly ProxyRule[];
}

/**
 * A request's destination as the rules see it: a `ProxiedRequestInfo`
 * is one.
 *
 * @since 0.1.0
 */
export interface RuleTarget {
  /** The host, lower case, without IPv6 brackets. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** The path and query (`/a?b`); `''` for a `CONNECT` tunnel. */
  readonly path: string;
}

/**
 * A rules file (or text) with bad lines: `problems` lists each with its
 * number and reason, and the message repeats them
 * (`rules.txt: 1 bad line\n  rules.txt:4: unknown action "blok"`). Also
 * thrown for a rules file that cannot be read (then `problems` is empty).
 *
 * @since 0.1.0
 */
export class RulesError extends TorsionError {
  override name = 'RulesError';
  override readonly code: string = 'ERR_PROXY_RULES';
  /** Where the rules came from: a file's path, or the source given to {@link Rules.parse}. */
  readonly source: string;
  /** The bad lines, in order. */
  readonly problems: readonly RuleProblem[];

  /**
   * @param source - Where the rules came from.
   * @param problems - The bad lines; the message lists them.
   * @param message - The message; by default, the count and each bad line.
   */
  constructor(
    source: string,
    problems: readonly RuleProblem[],
    message?: string,
    options?: ErrorOptions,
  ) {
    super(message ?? problemsMessage(source, problems), options);
    this.source = source;
    this.problems = problems;
  }
}

/** `src: 2 bad lines` and each line, indented. */
function problemsMessage(source: string, problems: readonly RuleProblem[]): string {
  const head = `${source}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}`;
  return [head, ...problems.map((p) => `  ${source}:${p.line}: ${p.reason}`)].join('\n');
}

/** The kinds of decision; the last matching rule of each kind wins. */
const ACCESS = 0;
const COOKIES = 1;
const IMAGES = 2;
const REFERER = 3;
const HEADER = 4;

/** Each action's kind and the arguments it takes after its pattern. */
const ACTIONS: ReadonlyMap<string, { kind: number; args: 'none' | 'name' | 'name-value' }> =
  new Map([
    ['block', { kind: ACCESS, args: 'none' }],
    ['allow', { kind: ACCESS, args: 'none' }],
    ['strip-cookies', { kind: COOKIES, args: 'none' }],
    ['strip-third-party-cookies', { kind: COOKIES, args: 'none' }],
    ['keep-cookies', { kind: COOKIES, args: 'none' }],
    ['block-images', { kind: IMAGES, args: 'none' }],
    ['allow-images', { kind: IMAGES, args: 'none' }],
    ['trim-referer', { kind: REFERER, args: 'none' }],
    ['keep-referer', { kind: REFERER, args: 'none' }],
    ['strip-header', { kind: HEADER, args: 'name' }],
    ['keep-header', { kind: HEADER, args: 'name' }],
    ['set-header', { kind: HEADER, args: 'name-value' }],
  ] as const);

/** Headers that frame or route the message: the proxy manages them, rules may not. */
const PROTECTED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'host',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
]);

/** A rule with what matching needs: its pattern compiled, its order and kind. */
interface Compiled {
  readonly rule: ProxyRule;
  readonly pattern: HostPattern;
  /** Its position among the rules: a later rule wins. */
  readonly index: number;
  readonly kind: number;
  /** For the header actions: the header name, lower case. */
  readonly headerKey: string | undefined;
}

/** The winners so far while matching, per kind. */
interface Winners {
  access: Compiled | undefined;
  cookies: Compiled | undefined;
  images: Compiled | undefined;
  referer: Compiled | undefined;
  /** At most one rule per header name (few names: an array beats a Map). */
  headers: Compiled[] | undefined;
}

const NO_HEADERS: readonly ProxyRule[] = Object.freeze([]);

/** The text of a line without its comment: `#` at the start or after a space or tab. */
function withoutComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line.charCodeAt(i) === 0x23 && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** What parsing a text yields: rules, option values, the lines in force, problems. */
interface Parsed {
  readonly rules: Compiled[];
  readonly lines: ProxyRuleLine[];
  readonly options: RulesOptions;
  readonly problems: RuleProblem[];
}

/** Parses `text`; bad lines become problems, never throws. */
function parseText(text: string, source: string): Parsed {
  const rules: Compiled[] = [];
  const lines: ProxyRuleLine[] = [];
  const problems: RuleProblem[] = [];
  let imageAnswer: 'gif' | '403' = 'gif';
  const rawLines = text.split('\n');
  for (let n = 0; n < rawLines.length; n++) {
    const lineNo = n + 1;
    let raw = rawLines[n] as string;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const body = withoutComment(raw).trim();
    if (body === '') continue;
    const problem = (reason: string): void => {
      problems.push({ line: lineNo, reason });
    };
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    const control = /[\0-\x08\x0a-\x1f\x7f]/.exec(body);
    if (control !== null) {
      const c = control[0];
      problem(`${c === '\r' ? 'CR' : c === '\n' ? 'LF' : 'a control character'} in the line`);
      continue;
    }
    const starts: number[] = [];
    const words: string[] = [];
    for (const m of body.matchAll(/[^ \t]+/g)) {
      words.push(m[0]);
      starts.push(m.index);
    }
    const action = words[0] as string;
    if (action === 'option') {
      const [, name, value, ...extra] = words;
      if (name === undefined) problem('option needs a name and a value (option image-answer gif)');
      else if (name !== 'image-answer') problem(`unknown option ${JSON.stringify(name)}`);
      else if (value === undefined) problem('option image-answer needs a value: gif or 403');
      else if (value !== 'gif' && value !== '403') {
        problem(`option image-answer takes gif or 403, not ${JSON.stringify(value)}`);
      } else if (extra.length > 0) problem(`extra argument ${JSON.stringify(extra[0])}`);
      else {
        imageAnswer = value;
        lines.push({ line: lineNo, text: body });
      }
      continue;
    }
    const spec = ACTIONS.get(action);
    if (spec === undefined) {
      problem(`unknown action ${JSON.stringify(action)}`);
      continue;
    }
    const patternText = words[1];
    if (patternText === undefined) {
      problem(`${action} needs a pattern`);
      continue;
    }
    const pattern = parsePattern(patternText);
    if (typeof pattern === 'string') {
      problem(pattern);
      continue;
    }
    let header: string | undefined;
    let value: string | undefined;
    if (spec.args === 'none') {
      if (words.length > 2) {
        problem(`extra argument ${JSON.stringify(words[2])} (${action} takes a pattern only)`);
        continue;
      }
    } else {
      header = words[2];
      if (header === undefined) {
        problem(
          spec.args === 'name'
            ? `${action} needs a header name`
            : `${action} needs a header name and a value`,
        );
        continue;
      }
      if (!isTokenString(header) || header.includes(':')) {
        problem(`bad header name ${JSON.stringify(header)}`);
        continue;
      }
      if (PROTECTED_HEADERS.has(header.toLowerCase())) {
        problem(`${header} cannot be changed by a rule (the proxy manages it)`);
        continue;
      }
      if (spec.args === 'name') {
        if (words.length > 3) {
          problem(
            `extra argument ${JSON.stringify(words[3])} (${action} takes a header name only)`,
          );
          continue;
        }
      } else {
        if (words.length < 4) {
          problem(`${action} needs a value after ${header}`);
          continue;
        }
        // The value is the rest of the line as written, inner spaces kept.
        value = body.slice(starts[3]);
        if (/[^\0-\xff]/.test(value)) {
          problem(`a character beyond Latin-1 in the value of ${header}`);
          continue;
        }
      }
    }
    const rule: ProxyRule = Object.freeze({
      line: lineNo,
      text: body,
      source,
      where: `${source}:${lineNo}`,
      action: action as RuleAction,
      pattern: patternText,
      header,
      value,
    });
    rules.push({
      rule,
      pattern,
      index: rules.length,
      kind: spec.kind,
      headerKey: header?.toLowerCase(),
    });
    lines.push({ line: lineNo, text: body });
  }
  return { rules, lines, options: { imageAnswer }, problems };
}

/**
 * A rule set of the filtering proxy: which requests are refused, which lose
 * their cookies, images, or headers. Immutable; a file that changes is
 * parsed into a new set ({@link RulesWatcher} does this).
 *
 * @remarks
 * The format (one rule a line, `ACTION PATTERN [ARGS…]`, `#` comments, the
 * last matching rule of each kind wins) is described in
 * `docs/proxy-rules.md`.
 *
 * Matching costs a few map lookups, whatever the number of rules: exact
 * hosts and domains are found by walking the labels of the request's host
 * (`a.b.example.com`, `b.example.com`, `example.com`, `com`), hashing each
 * character once, with a bit filter in front of each map; a wildcard is
 * indexed by its longest label without `*`, one with none (`ad*.*`) by its
 * first character, and only those that start with `*` or a dot and have
 * `*` in every label (`*.ad*.*`) are tried for every request.
 *
 * A request host with a trailing dot (`example.com.`) is matched as the
 * same host without it, so that the dot cannot slip past a block rule.
 *
 * @example
 * ```ts
 * const rules = Rules.parse('block .doubleclick.net\nstrip-cookies *\nkeep-cookies .example.com\n', 'my-rules');
 * rules.match({ host: 'ad.doubleclick.net', port: 443, path: '' }).blocked; // true
 * rules.explain('http://www.example.com/').verdict;
 * // 'allowed (no block rule matches); cookies kept by my-rules:3: keep-cookies .example.com'
 * ```
 *
 * @since 0.1.0
 */
export class Rules implements IProxyRulesView {
  /** Where the rules came from: a file's path, `built-in`, or the source given to {@link Rules.parse}. */
  readonly source: string;
  /** When the rules were loaded, in seconds (of the clock given when parsing). */
  readonly loadedAt: number;
  /** The text the rules were parsed from. */
  readonly text: string;
  /** The rules, in order (option lines are not among them). */
  readonly rules: readonly ProxyRule[];
  /** The values of the `option` lines (or their defaults). */
  readonly options: RulesOptions;
  readonly #compiled: readonly Compiled[];
  readonly #lines: readonly ProxyRuleLine[];
  /** Rules whose pattern is one host, by that host. */
  readonly #exact = new HostIndex<Compiled>();
  /** Rules whose pattern is a domain and its subdomains, by the domain. */
  readonly #domains = new HostIndex<Compiled>();
  /** Wildcard rules with a label without `*`, by that label. */
  readonly #byLabel = new HostIndex<Compiled>();
  /**
   * Wildcards with `*` in every label that start with a character other
   * than `*` (`ad*.*`), by that character's code (below 128).
   */
  readonly #byFirstChar: (Compiled[] | undefined)[] = [];
  /** Rules tried for every request: `*`, and the other wildcards with `*` in every label. */
  readonly #everywhere: Compiled[] = [];

  private constructor(text: string, source: string, parsed: Parsed, loadedAt: number) {
    this.text = text;
    this.source = source;
    this.loadedAt = loadedAt;
    this.#compiled = parsed.rules;
    this.#lines = Object.freeze(parsed.lines);
    this.options = Object.freeze(parsed.options);
    this.rules = Object.freeze(parsed.rules.map((c) => c.rule));
    for (const c of parsed.rules) {
      const p = c.pattern;
      if (p.kind === 'exact') this.#exact.add(p.host, c);
      else if (p.kind === 'domain') this.#domains.add(p.host, c);
      else if (p.kind === 'wildcard' && p.keyLabel !== undefined) {
        this.#byLabel.add(p.keyLabel, c);
      } else if (p.kind === 'wildcard' && p.prefix !== '' && p.prefix.charCodeAt(0) < 128) {
        const code = p.prefix.charCodeAt(0);
        const list = this.#byFirstChar[code];
        if (list === undefined) this.#byFirstChar[code] = [c];
        else list.push(c);
      } else this.#everywhere.push(c);
    }
  }

  /**
   * Parses a rule set.
   *
   * @param text - The rules, one a line (see `docs/proxy-rules.md`).
   * @param source - Where they came from, as messages and block pages name
   *   it (a file's path). Default `rules`.
   * @throws {@link RulesError} listing every bad line.
   */
  static parse(text: string, source = 'rules', options: RulesParseOptions = {}): Rules {
    const parsed = parseText(text, source);
    if (parsed.problems.length > 0) throw new RulesError(source, parsed.problems);
    const loadedAt = options.loadedAt ?? options.clock?.seconds() ?? Date.now() / 1000;
    return new Rules(text, source, parsed, loadedAt);
  }

  /**
   * The bad lines of a rule set, each with its number and reason; empty when
   * every line is good.
   */
  static check(text: string, source = 'rules'): RuleProblem[] {
    return parseText(text, source).problems;
  }

  /**
   * Reads and parses a rules file (UTF-8); its path is the set's source.
   *
   * @throws {@link RulesError} for a file that cannot be read (its message
   *   says why, `problems` is empty) or that has bad lines.
   */
  static load(path: string, options: RulesParseOptions = {}): Rules {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : String((e as Error).message ?? e);
      throw new RulesError(path, [], `cannot read the rules file ${path}: ${why}`, { cause: e });
    }
    return Rules.parse(text, path, options);
  }

  /** The built-in rule set ({@link DEFAULT_RULES}), whose source is `built-in`. */
  static defaults(options: RulesParseOptions = {}): Rules {
    return Rules.parse(DEFAULT_RULES, 'built-in', options);
  }

  /**
   * Which rules apply to a request: for each kind of action, the last
   * matching rule.
   *
   * @param target - The request's destination; a `ProxiedRequestInfo` will do.
   */
  match(target: RuleTarget): RulesMatch {
    let host = target.host;
    if (host.charCodeAt(host.length - 1) === 0x2e) host = host.slice(0, -1);
    const t: PatternTarget = host === target.host ? target : { ...target, host };
    const w: Winners = {
      access: undefined,
      cookies: undefined,
      images: undefined,
      referer: undefined,
      headers: undefined,
    };
    if (this.#everywhere.length > 0) consider(w, this.#everywhere, t);
    if (this.#byFirstChar.length > 0) {
      const list = this.#byFirstChar[host.charCodeAt(0)];
      if (list !== undefined) consider(w, list, t);
    }
    const exact = this.#exact;
    const domains = this.#domains;
    const byLabel = this.#byLabel;
    // Walk the host from its end: at each dot (and at the start) `h` is the
    // hash of the suffix after it, a domain's key, and `lh` that of the
    // label after it, a wildcard's key; the whole host is the exact key.
    let h = 0;
    let lh = 0;
    let labelEnd = host.length;
    for (let i = host.length - 1; ; i--) {
      const c = i >= 0 ? host.charCodeAt(i) : 0x2e;
      if (c !== 0x2e) {
        h = hashStep(h, c);
        lh = hashStep(lh, c);
        continue;
      }
      const from = i + 1;
      const domain = domains.find(h, host, from, host.length);
      if (domain !== undefined) considerFound(w, domain, t);
      const label = byLabel.find(lh, host, from, labelEnd);
      if (label !== undefined) consider(w, label, t);
      if (i < 0) {
        const list = exact.find(h, host, 0, host.length);
        if (list !== undefined) considerFound(w, list, t);
        break;
      }
      h = hashStep(h, c);
      lh = 0;
      labelEnd = i;
    }
    let headers = NO_HEADERS;
    if (w.headers !== undefined) {
      const list = w.headers;
      headers =
        list.length === 1
          ? [(list[0] as Compiled).rule]
          : list.sort((a, b) => a.index - b.index).map((c) => c.rule);
    }
    return {
      access: w.access?.rule,
      blocked: w.access?.rule.action === 'block',
      cookies: w.cookies?.rule,
      images: w.images?.rule,
      referer: w.referer?.rule,
      headers,
    };
  }

  /** The rules in force, as a status page lists them (option lines included). */
  summary(): ProxyRulesSummary {
    return { source: this.source, loadedAt: this.loadedAt, rules: this.#lines };
  }

  /**
   * Which rules match `url`, which win, and what the proxy does with it.
   *
   * @remarks
   * Every rule is listed, in order, with whether its pattern matches and
   * why. Rules that depend on more than the URL are explained as far as the
   * URL tells: a request is an image by its headers too, and a third party
   * by its `Referer` or `Sec-Fetch-Site`.
   *
   * @param url - An `http:` or `https:` URL; without a scheme, `http://` is assumed.
   * @throws TypeError for a URL that cannot be parsed or has another scheme.
   */
  explain(url: string): ProxyExplanation {
    const target = explainTarget(url);
    const matched: { c: Compiled; reason: string; matched: boolean }[] = [];
    const w: Winners = {
      access: undefined,
      cookies: undefined,
      images: undefined,
      referer: undefined,
      headers: undefined,
    };
    for (const c of this.#compiled) {
      const e = explainPattern(c.pattern, target);
      matched.push({ c, reason: e.reason, matched: e.matched });
      if (e.matched) win(w, c);
    }
    const winners = new Set<Compiled>();
    for (const c of [w.access, w.cookies, w.images, w.referer, ...(w.headers ?? [])]) {
      if (c !== undefined) winners.add(c);
    }
    const steps: ProxyExplainStep[] = matched.map(({ c, reason, matched: m }) => ({
      rule: { line: c.rule.line, text: c.rule.text },
      matched: m,
      reason,
      wins: winners.has(c),
    }));
    return { url: target.url, steps, verdict: verdict(w, target) };
  }
}

/** Records `c` as the winner of its kind if it comes after the winner so far (matching not checked). */
function win(w: Winners, c: Compiled): void {
  switch (c.kind) {
    case ACCESS:
      if (w.access === undefined || w.access.index < c.index) w.access = c;
      break;
    case COOKIES:
      if (w.cookies === undefined || w.cookies.index < c.index) w.cookies = c;
      break;
    case IMAGES:
      if (w.images === undefined || w.images.index < c.index) w.images = c;
      break;
    case REFERER:
      if (w.referer === undefined || w.referer.index < c.index) w.referer = c;
      break;
    default: {
      const list = w.headers;
      if (list === undefined) {
        w.headers = [c];
        return;
      }
      for (let i = 0; i < list.length; i++) {
        const before = list[i] as Compiled;
        if (before.headerKey === c.headerKey) {
          if (before.index < c.index) list[i] = c;
          return;
        }
      }
      list.push(c);
    }
  }
}

/** The index of the winner so far of `c`'s kind, -1 when none. */
function winnerIndex(w: Winners, c: Compiled): number {
  let winner: Compiled | undefined;
  switch (c.kind) {
    case ACCESS:
      winner = w.access;
      break;
    case COOKIES:
      winner = w.cookies;
      break;
    case IMAGES:
      winner = w.images;
      break;
    case REFERER:
      winner = w.referer;
      break;
    default:
      if (w.headers !== undefined) {
        for (const h of w.headers) if (h.headerKey === c.headerKey) winner = h;
      }
  }
  return winner === undefined ? -1 : winner.index;
}

/** Tries each rule of `list` that could still win its kind. */
function consider(w: Winners, list: readonly Compiled[], t: PatternTarget): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as Compiled;
    if (winnerIndex(w, c) > c.index) continue;
    if (patternMatches(c.pattern, t)) win(w, c);
  }
}

/**
 * As {@link consider}, for rules found by their host in an index (exact
 * hosts and domains): the host is known to match, only port and path are
 * checked.
 */
function considerFound(w: Winners, list: readonly Compiled[], t: PatternTarget): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as Compiled;
    if (winnerIndex(w, c) > c.index) continue;
    const p = c.pattern;
    if (p.port !== undefined && p.port !== t.port) continue;
    if (p.path !== undefined && !t.path.startsWith(p.path)) continue;
    win(w, c);
  }
}

/** The destination `explain` is about, parsed from a URL. */
interface ExplainTarget extends PatternTarget {
  readonly url: string;
}

/** Image file extensions that mark a URL as an image. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'webp',
  'avif',
  'svg',
  'ico',
  'bmp',
]);

/** Whether a path (with its query) names a file with an image extension. */
export function hasImageExtension(path: string): boolean {
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const hash = path.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const dot = path.lastIndexOf('.', end);
  if (dot < 0 || path.lastIndexOf('/', end) > dot) return false;
  const ext = path.slice(dot + 1, end);
  return ext.length <= 4 && IMAGE_EXTENSIONS.has(ext.toLowerCase());
}

/** Parses a URL for `explain`. */
function explainTarget(url: string): ExplainTarget {
  const text = url.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new TypeError(`cannot explain ${JSON.stringify(url)}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(
      `cannot explain ${JSON.stringify(url)}: the proxy handles http and https, not ${u.protocol.slice(0, -1)}`,
    );
  }
  if (u.hostname === '') throw new TypeError(`cannot explain ${JSON.stringify(url)}: no host`);
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return {
    url: u.href,
    host: normalHost(u.hostname),
    port,
    path: `${u.pathname}${u.search}`,
  };
}

/** `built-in:12: block .doubleclick.net` */
function named(c: Compiled): string {
  return `${c.rule.where}: ${c.rule.text}`;
}

/** The one-sentence outcome of an explanation. */
function verdict(w: Winners, target: ExplainTarget): string {
  if (w.access !== undefined && w.access.rule.action === 'block') {
    return `blocked by ${named(w.access)}`;
  }
  const image = hasImageExtension(target.path);
  if (image && w.images?.rule.action === 'block-images') {
    return `blocked as an image (its extension) by ${named(w.images)}`;
  }
  const parts: string[] = [
    w.access === undefined ? 'allowed (no block rule matches)' : `allowed by ${named(w.access)}`,
  ];
  if (w.images !== undefined) {
    parts.push(
      w.images.rule.action === 'block-images'
        ? `images from it blocked by ${named(w.images)}`
        : `images allowed by ${named(w.images)}`,
    );
  }
  if (w.cookies !== undefined) {
    const what =
      w.cookies.rule.action === 'strip-cookies'
        ? 'cookies stripped'
        : w.cookies.rule.action === 'strip-third-party-cookies'
          ? 'third-party cookies stripped'
          : 'cookies kept';
    parts.push(`${what} by ${named(w.cookies)}`);
  }
  if (w.referer !== undefined) {
    parts.push(
      `Referer ${w.referer.rule.action === 'trim-referer' ? 'trimmed' : 'kept'} by ${named(w.referer)}`,
    );
  }
  if (w.headers !== undefined) {
    for (const c of [...w.headers].sort((a, b) => a.index - b.index)) {
      const r = c.rule;
      const what =
        r.action === 'strip-header'
          ? 'removed'
          : r.action === 'set-header'
            ? `set to ${JSON.stringify(r.value)}`
            : 'kept';
      parts.push(`${r.header} ${what} by ${named(c)}`);
    }
  }
  return parts.join('; ');
}

/**
 * How {@link formatExplanation} lays out an explanation.
 *
 * @since 0.1.0
 */
export interface FormatExplanationOptions {
  /** List only the rules that match (and count the others). Default `false`: every rule. */
  readonly onlyMatched?: boolean;
}

/**
 * An explanation as text for a terminal (what `torsion proxy --explain URL`
 * prints): the URL, one line per rule (its line number, `wins`, `match` or
 * `-`, the rule and why), and the verdict.
 *
 * @example
 * ```text
 * http://ads.example.com/banner.png
 *   line 1  -      block .doubleclick.net    ads.example.com is not in the domain doubleclick.net
 *   line 2  wins   block .example.com        ads.example.com is in the domain example.com
 * verdict: blocked by rules:2: block .example.com
 * ```
 *
 * @since 0.1.0
 */
export function formatExplanation(
  explanation: ProxyExplanation,
  options: FormatExplanationOptions = {},
): string {
  const shown = options.onlyMatched
    ? explanation.steps.filter((s) => s.matched)
    : explanation.steps;
  const lineWidth = Math.max(0, ...shown.map((s) => String(s.rule.line).length));
  const textWidth = Math.max(0, ...shown.map((s) => s.rule.text.length));
  const out = [explanation.url];
  for (const s of shown) {
    const mark = s.wins ? 'wins ' : s.matched ? 'match' : '-    ';
    out.push(
      `  line ${String(s.rule.line).padStart(lineWidth)}  ${mark}  ${s.rule.text.padEnd(textWidth)}  ${s.reason}`,
    );
  }
  if (shown.length === 0) out.push('  (no rule matches)');
  const hidden = explanation.steps.length - shown.length;
  if (hidden > 0) {
    out.push(`  (${hidden} other rule${hidden === 1 ? ' does' : 's do'} not match)`);
  }
  out.push(`verdict: ${explanation.verdict}`);
  return `${out.join('\n')}\n`;
}
