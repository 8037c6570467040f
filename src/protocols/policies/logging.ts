// Traffic logging wrappers: TrafficLoggingFactory writes each connection's
// traffic to a file, SpewingFactory to the log
// (Twisted: twisted.protocols.policies.TrafficLoggingFactory, SpewingFactory).
// Tests: test/unit/protocols/policies-logging.test.ts

import { closeSync, openSync, writeSync } from 'node:fs';
import { inspect } from 'node:util';
import type { Failure } from '../../internet/failure.js';
import type { IAddress, IProtocol } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import {
  ProtocolWrapper,
  type ProtocolWrapperFactory,
  type WrappedFactory,
  WrappingFactory,
} from './wrapper.js';

const log = new Logger('torsion.protocols.policies');

/**
 * Python's `repr` of a bytes object (`b'ab\r\n'`), so that traffic logs
 * read as Twisted's do.
 */
function reprBytes(data: Uint8Array): string {
  let single = false;
  let double = false;
  for (const byte of data) {
    if (byte === 0x27) single = true;
    else if (byte === 0x22) double = true;
  }
  const quote = single && !double ? 0x22 : 0x27;
  const parts: string[] = ['b', String.fromCharCode(quote)];
  for (const byte of data) {
    if (byte === quote || byte === 0x5c) parts.push(`\\${String.fromCharCode(byte)}`);
    else if (byte === 0x09) parts.push('\\t');
    else if (byte === 0x0a) parts.push('\\n');
    else if (byte === 0x0d) parts.push('\\r');
    else if (byte < 0x20 || byte >= 0x7f) parts.push(`\\x${byte.toString(16).padStart(2, '0')}`);
    else parts.push(String.fromCharCode(byte));
  }
  parts.push(String.fromCharCode(quote));
  return parts.join('');
}

/**
 * Where a {@link TrafficLoggingProtocol} writes its log: a file opened for
 * writing, or anything that takes text.
 *
 * @since 0.1.0
 */
export interface TrafficLogFile {
  /** Appends text (each line ends with `\n`). */
  write(text: string): void;
  /** Pushes what was written to its destination, if it buffers. */
  flush?(): void;
  /** Closes the file; called after the connection's last line. */
  close?(): void;
}

/** Opens `name` for writing, truncating it; writes are synchronous. */
function openLogFile(name: string): TrafficLogFile {
  const fd = openSync(name, 'w');
  return {
    write: (text) => {
      writeSync(fd, text);
    },
    close: () => closeSync(fd),
  };
}

/**
 * The wrapper of {@link TrafficLoggingFactory}: writes a line to its log
 * file for each event of the connection, then passes the event on.
 *
 * @remarks
 * The lines, with `N` the connection's number and bytes shown as Python's
 * `repr` shows them (`b'hi\r\n'`):
 *
 * ```
 * *                          connection made
 * C N: b'...'                bytes received from the peer ("client")
 * S N: b'...'                bytes written ("server")
 * SV N: [b'...', b'...']     chunks written with writeSequence
 * S N: *                     loseConnection called
 * C N: <Failure ...>         connection lost, with the reason
 * ```
 *
 * With `lengthLimit`, longer chunks are cut and marked `<... elided>`. The
 * file is closed after the connection-lost line.
 *
 * @see Twisted: twisted.protocols.policies.TrafficLoggingProtocol
 * @since 0.1.0
 */
export class TrafficLoggingProtocol extends ProtocolWrapper {
  /** Where the lines go. */
  readonly logfile: TrafficLogFile;
  /** Longest chunk logged whole, in bytes; `undefined` for no limit. */
  readonly lengthLimit: number | undefined;
  /** The connection's number in the log lines. */
  readonly number: number;

  /**
   * @param factory - The factory that made this wrapper.
   * @param wrappedProtocol - The protocol to wrap.
   * @param logfile - Where the lines go.
   * @param lengthLimit - Longest chunk logged whole, in bytes.
   * @param number - The connection's number in the log lines. Default 0.
   */
  constructor(
    factory: ProtocolWrapperFactory,
    wrappedProtocol: IProtocol,
    logfile: TrafficLogFile,
    lengthLimit?: number,
    number = 0,
  ) {
    super(factory, wrappedProtocol);
    this.logfile = logfile;
    this.lengthLimit = lengthLimit;
    this.number = number;
  }

  /** Logs `*`. */
  override connectionMade(): void {
    this.#log('*');
    super.connectionMade();
  }

  /** Logs `C N: bytes`, then passes the bytes on. */
  override dataReceived(data: Uint8Array): void {
    this.#log(`C ${this.number}: ${this.#munge(data)}`);
    super.dataReceived(data);
  }

  /** Logs `C N: reason`, passes the loss on, then closes the log file. */
  override connectionLost(reason: Failure): void {
    this.#log(`C ${this.number}: ${inspect(reason)}`);
    try {
      super.connectionLost(reason);
    } finally {
      this.logfile.close?.();
    }
  }

  /** Logs `S N: bytes`, then writes them. */
  override write(data: Uint8Array): void {
    this.#log(`S ${this.number}: ${this.#munge(data)}`);
    super.write(data);
  }

  /** Logs `SV N: [bytes, …]`, then writes them. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    this.#log(`SV ${this.number}: [${chunks.map((chunk) => this.#munge(chunk)).join(', ')}]`);
    super.writeSequence(chunks);
  }

  /** Logs `S N: *`, then closes the connection. */
  override loseConnection(): void {
    this.#log(`S ${this.number}: *`);
    super.loseConnection();
  }

  #log(line: string): void {
    this.logfile.write(`${line}\n`);
    this.logfile.flush?.();
  }

  #munge(data: Uint8Array): string {
    const limit = this.lengthLimit;
    if (limit !== undefined && limit > 0 && data.byteLength > limit) {
      return `${reprBytes(data.subarray(0, Math.max(0, limit - 12)))}<... elided>`;
    }
    return reprBytes(data);
  }
}

/** Options of {@link TrafficLoggingFactory}. */
export interface TrafficLoggingFactoryOptions {
  /** Longest chunk logged whole, in bytes. @defaultValue no limit */
  lengthLimit?: number | undefined;
  /**
   * Opens a connection's log file, given its name; for tests, or to log
   * somewhere else.
   * @defaultValue opens the file for writing, truncating it
   */
  openFile?: ((name: string) => TrafficLogFile) | undefined;
}

/**
 * Writes each connection's traffic to its own log file, for debugging:
 * `logfilePrefix-1`, `logfilePrefix-2`, …
 *
 * @remarks
 * See {@link TrafficLoggingProtocol} for what is logged. The default files
 * are written synchronously, line by line, as Twisted's are: a tool for
 * debugging, not for production traffic.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new TrafficLoggingFactory(Factory.forProtocol(Echo), '/tmp/echo'));
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TrafficLoggingFactory
 * @since 0.1.0
 */
export class TrafficLoggingFactory extends WrappingFactory<TrafficLoggingProtocol> {
  /** The log files are named `${logfilePrefix}-${n}`. */
  logfilePrefix: string;
  /** Longest chunk logged whole, in bytes; `undefined` for no limit. */
  lengthLimit: number | undefined;
  /** The number of the last connection; the next one gets `counter + 1`. */
  counter = 0;
  readonly #openFile: (name: string) => TrafficLogFile;

  /**
   * @param wrappedFactory - The factory whose traffic is logged.
   * @param logfilePrefix - The log files are named `${logfilePrefix}-${n}`.
   * @param options - See {@link TrafficLoggingFactoryOptions}.
   */
  constructor(
    wrappedFactory: WrappedFactory,
    logfilePrefix: string,
    options?: TrafficLoggingFactoryOptions,
  );
  /**
   * @param wrappedFactory - The factory whose traffic is logged.
   * @param options - The prefix of the log files' names, and see
   *   {@link TrafficLoggingFactoryOptions}.
   */
  constructor(
    wrappedFactory: WrappedFactory,
    options: TrafficLoggingFactoryOptions & { logfilePrefix: string },
  );
  constructor(
    wrappedFactory: WrappedFactory,
    prefixOrOptions: string | (TrafficLoggingFactoryOptions & { logfilePrefix: string }),
    options: TrafficLoggingFactoryOptions = {},
  ) {
    super(wrappedFactory);
    const opts = typeof prefixOrOptions === 'string' ? options : prefixOrOptions;
    this.logfilePrefix =
      typeof prefixOrOptions === 'string' ? prefixOrOptions : prefixOrOptions.logfilePrefix;
    this.lengthLimit = opts.lengthLimit;
    this.#openFile = opts.openFile ?? openLogFile;
  }

  /**
   * Opens a log file. Override, or pass `openFile`, to log elsewhere.
   *
   * @param name - The file's name.
   * @returns The file.
   */
  open(name: string): TrafficLogFile {
    return this.#openFile(name);
  }

  /** Numbers the connection, opens its log file and wraps it in a {@link TrafficLoggingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): TrafficLoggingProtocol {
    this.counter++;
    const logfile = this.open(`${this.logfilePrefix}-${this.counter}`);
    return new TrafficLoggingProtocol(
      this,
      wrappedProtocol,
      logfile,
      this.lengthLimit,
      this.counter,
    );
  }

  /** Numbers connections from 1 again. */
  resetCounter(): void {
    this.counter = 0;
  }
}

/**
 * The wrapper of {@link SpewingFactory}: logs every chunk received and
 * written (at `info`, as Python's `repr` of the bytes).
 *
 * @see Twisted: twisted.protocols.policies.SpewingProtocol
 * @since 0.1.0
 */
export class SpewingProtocol extends ProtocolWrapper {
  /** Logs `Received: bytes`, then passes them on. */
  override dataReceived(data: Uint8Array): void {
    log.info('Received: {data}', { data: reprBytes(data) });
    super.dataReceived(data);
  }

  /** Logs `Sending: bytes`, then writes them. */
  override write(data: Uint8Array): void {
    log.info('Sending: {data}', { data: reprBytes(data) });
    super.write(data);
  }
}

/**
 * Logs all the traffic of the factory it wraps, for debugging.
 *
 * @see Twisted: twisted.protocols.policies.SpewingFactory
 * @since 0.1.0
 */
export class SpewingFactory extends WrappingFactory<SpewingProtocol> {
  /** Wraps in a {@link SpewingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): SpewingProtocol {
    return new SpewingProtocol(this, wrappedProtocol);
  }
}
