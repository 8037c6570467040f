// Exceptions of the reactor layer (Twisted: twisted.internet.error) and the
// base class every Torsion error shares.
// Tests: test/unit/internet/error.test.ts, test/unit/internet/process-errors.test.ts

import { constants } from 'node:os';

const osSignals: Readonly<Record<string, number>> = constants.signals;

/**
 * The base class of Torsion's errors.
 *
 * @remarks
 * It adds one thing to `Error`: a stable {@link TorsionError.code}. Match on
 * `err.code` rather than `instanceof` when errors may cross package copies or
 * realms: codes are never reused once published. Every subclass sets a literal
 * `name` (Twisted's class name) and accepts `{ cause }`.
 *
 * @since 0.1.0
 */
export class TorsionError extends Error {
  /** The error's class name, as in Twisted (`'ConnectionDone'`, `'CancelledError'`, …). */
  override name: string = 'TorsionError';
  /** A stable, machine-readable identifier of this kind of error. */
  readonly code: string = 'ERR_TORSION';
}

/**
 * Thrown by {@link IDelayedCall.cancel}, `reset` or `delay` on a call that has
 * already run.
 *
 * @see Twisted: twisted.internet.error.AlreadyCalled
 * @since 0.1.0
 */
export class AlreadyCalled extends TorsionError {
  override name = 'AlreadyCalled' as const;
  override readonly code = 'ERR_ALREADY_CALLED' as const;
  constructor(message = 'the delayed call has already run', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by {@link IDelayedCall.cancel}, `reset` or `delay` on a call that was
 * cancelled.
 *
 * @see Twisted: twisted.internet.error.AlreadyCancelled
 * @since 0.1.0
 */
export class AlreadyCancelled extends TorsionError {
  override name = 'AlreadyCancelled' as const;
  override readonly code = 'ERR_ALREADY_CANCELLED' as const;
  constructor(message = 'the delayed call was cancelled', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `stop()` on a reactor that is not running.
 *
 * @see Twisted: twisted.internet.error.ReactorNotRunning
 * @since 0.1.0
 */
export class ReactorNotRunning extends TorsionError {
  override name = 'ReactorNotRunning' as const;
  override readonly code = 'ERR_REACTOR_NOT_RUNNING' as const;
  constructor(message = "can't stop a reactor that isn't running", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `run()` on a reactor that is already running.
 *
 * @see Twisted: twisted.internet.error.ReactorAlreadyRunning
 * @since 0.1.0
 */
export class ReactorAlreadyRunning extends TorsionError {
  override name = 'ReactorAlreadyRunning' as const;
  override readonly code = 'ERR_REACTOR_ALREADY_RUNNING' as const;
  constructor(message = 'the reactor is already running', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `run()` on a reactor that has been stopped: a reactor runs once.
 *
 * @see Twisted: twisted.internet.error.ReactorNotRestartable
 * @since 0.1.0
 */
export class ReactorNotRestartable extends TorsionError {
  override name = 'ReactorNotRestartable' as const;
  override readonly code = 'ERR_REACTOR_NOT_RESTARTABLE' as const;
  constructor(
    message = 'the reactor has been stopped and cannot run again',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A host name could not be resolved to an address.
 *
 * @see Twisted: twisted.internet.error.DNSLookupError
 * @since 0.1.0
 */
export class DNSLookupError extends TorsionError {
  override name = 'DNSLookupError' as const;
  override readonly code = 'ERR_DNS_LOOKUP' as const;
  /** The name that was looked up. */
  readonly hostname: string | undefined;
  constructor(message = 'DNS lookup failed', options?: ErrorOptions & { hostname?: string }) {
    super(message, options);
    this.hostname = options?.hostname;
  }
}

// ---------------------------------------------------------------------------
// Listening and connecting

/**
 * A socket could not be bound.
 *
 * @see Twisted: twisted.internet.error.BindError
 * @since 0.1.0
 */
export class BindError extends TorsionError {
  override name: string = 'BindError';
  override readonly code: string = 'ERR_BIND';
}

/**
 * A port could not be listened on: it is in use, the address is not local,
 * or permission was denied. Thrown synchronously by `listenTCP` and friends.
 *
 * @see Twisted: twisted.internet.error.CannotListenError
 * @since 0.1.0
 */
export class CannotListenError extends BindError {
  override name = 'CannotListenError' as const;
  override readonly code = 'ERR_CANNOT_LISTEN' as const;
  /** The address that was asked for (`''` for all interfaces). */
  readonly interface: string;
  /** The port, or the socket path for UNIX sockets. */
  readonly port: number | string;
  /** The system's reason, such as `'EADDRINUSE'`. */
  readonly socketError: string;

  constructor(iface: string, port: number | string, socketError: string, options?: ErrorOptions) {
    super(`Couldn't listen on ${iface === '' ? 'any' : iface}:${port}: ${socketError}.`, options);
    this.interface = iface;
    this.port = port;
    this.socketError = socketError;
  }
}

/** What a {@link ConnectError} is made of: an optional system error and detail. */
export interface ConnectErrorOptions extends ErrorOptions {
  /** The system's error, such as `'ECONNREFUSED'`. */
  osError?: string | undefined;
}

/**
 * A connection attempt failed. The subclasses say why.
 *
 * @remarks
 * The message reads as in Twisted: the kind of failure, then the system
 * error and the detail when there are any, e.g. "Connection was refused by
 * other side: ECONNREFUSED: 127.0.0.1:9."
 *
 * @see Twisted: twisted.internet.error.ConnectError
 * @since 0.1.0
 */
export class ConnectError extends TorsionError {
  /** What kind of failure this class stands for; the start of the message. */
  static readonly description: string = 'An error occurred while connecting';
  override name: string = 'ConnectError';
  override readonly code: string = 'ERR_CONNECT';
  /** The system's error, such as `'ECONNREFUSED'`, if there was one. */
  readonly osError: string | undefined;

  /**
   * @param detail - What was being connected to, or other detail.
   * @param options - `osError`, `cause`.
   */
  constructor(detail = '', options: ConnectErrorOptions = {}) {
    const description = (new.target as typeof ConnectError).description;
    let message = description;
    if (options.osError) message += `: ${options.osError}`;
    if (detail) message += `: ${detail}`;
    super(`${message}.`, options);
    this.osError = options.osError;
  }
}

/** Could not bind the local address given for an outgoing connection. */
export class ConnectBindError extends ConnectError {
  static override readonly description: string = "Couldn't bind";
  override name = 'ConnectBindError' as const;
  override readonly code = 'ERR_CONNECT_BIND' as const;
}

/** The host name could not be resolved while connecting. */
export class UnknownHostError extends ConnectError {
  static override readonly description: string = "Hostname couldn't be looked up";
  override name = 'UnknownHostError' as const;
  override readonly code = 'ERR_UNKNOWN_HOST' as const;
}

/** No route to the host. */
export class NoRouteError extends ConnectError {
  static override readonly description: string = 'No route to host';
  override name = 'NoRouteError' as const;
  override readonly code = 'ERR_NO_ROUTE' as const;
}

/**
 * The other side refused the connection: nothing listens there.
 *
 * @see Twisted: twisted.internet.error.ConnectionRefusedError
 * @since 0.1.0
 */
export class ConnectionRefusedError extends ConnectError {
  static override readonly description: string = 'Connection was refused by other side';
  override name = 'ConnectionRefusedError' as const;
  override readonly code = 'ERR_CONNECTION_REFUSED' as const;
}

/** The system timed out the connection attempt. */
export class TCPTimedOutError extends ConnectError {
  static override readonly description: string = 'TCP connection timed out';
  override name = 'TCPTimedOutError' as const;
  override readonly code = 'ERR_TCP_TIMED_OUT' as const;
}

/** A bad file descriptor was used. */
export class BadFileError extends ConnectError {
  static override readonly description: string = 'File used for UNIX socket is no good';
  override name = 'BadFileError' as const;
  override readonly code = 'ERR_BAD_FILE' as const;
}

/** A service name (such as `'http'`) is unknown. */
export class ServiceNameUnknownError extends ConnectError {
  static override readonly description: string = 'Service name given as port is unknown';
  override name = 'ServiceNameUnknownError' as const;
  override readonly code = 'ERR_SERVICE_NAME_UNKNOWN' as const;
}

/** The attempt was stopped by the program (see the subclasses). */
export class UserError extends ConnectError {
  static override readonly description: string = 'User aborted connection';
  override name: string = 'UserError';
  override readonly code: string = 'ERR_USER_ABORTED';
}

/**
 * The connection attempt did not complete within its timeout.
 *
 * @remarks
 * Not the same class as `torsion/defer`'s `TimeoutError` (a Deferred's
 * deadline); the root module `torsion` exports that one.
 *
 * @see Twisted: twisted.internet.error.TimeoutError
 * @since 0.1.0
 */
export class TimeoutError extends UserError {
  static override readonly description: string = 'User timeout caused connection failure';
  override name = 'TimeoutError' as const;
  override readonly code = 'ERR_CONNECT_TIMEOUT' as const;
}

/** The TLS handshake failed. */
export class SSLError extends ConnectError {
  static override readonly description: string = 'An SSL error occurred';
  override name = 'SSLError' as const;
  override readonly code = 'ERR_TLS' as const;
}

/**
 * A connection attempt was cancelled; `address` is where it was going.
 *
 * @see Twisted: twisted.internet.error.ConnectingCancelledError
 * @since 0.1.0
 */
export class ConnectingCancelledError extends TorsionError {
  override name = 'ConnectingCancelledError' as const;
  override readonly code = 'ERR_CONNECTING_CANCELLED' as const;
  /** Where the cancelled attempt was connecting to. */
  readonly address: unknown;
  constructor(address: unknown, options?: ErrorOptions) {
    super(`the connection attempt to ${String(address)} was cancelled`, options);
    this.address = address;
  }
}

/** `stopConnecting()` on a connector that is not connecting. */
export class NotConnectingError extends TorsionError {
  override name = 'NotConnectingError' as const;
  override readonly code = 'ERR_NOT_CONNECTING' as const;
  constructor(message = 'the connector is not connecting', options?: ErrorOptions) {
    super(message, options);
  }
}

/** An operation needed a listening port that is not listening. */
export class NotListeningError extends TorsionError {
  override name = 'NotListeningError' as const;
  override readonly code = 'ERR_NOT_LISTENING' as const;
  constructor(message = 'the port is not listening', options?: ErrorOptions) {
    super(message, options);
  }
}

/** The factory refused the connection: `buildProtocol` returned null. */
export class NoProtocol extends TorsionError {
  override name = 'NoProtocol' as const;
  override readonly code = 'ERR_NO_PROTOCOL' as const;
  constructor(message = 'the factory refused to build a protocol', options?: ErrorOptions) {
    super(message, options);
  }
}

/** An address that cannot be used for this kind of socket. */
export class InvalidAddressError extends TorsionError {
  override name = 'InvalidAddressError' as const;
  override readonly code = 'ERR_INVALID_ADDRESS' as const;
  /** The address given. */
  readonly address: unknown;
  constructor(address: unknown, message: string, options?: ErrorOptions) {
    super(`Invalid address ${String(address)}: ${message}`, options);
    this.address = address;
  }
}

/**
 * A datagram is too long to send: more than 65,507 bytes over IPv4 or
 * 65,527 over IPv6 (the most a UDP datagram can carry). Thrown by a UDP
 * transport's `write`.
 *
 * @see Twisted: twisted.internet.error.MessageLengthError
 * @since 0.1.0
 */
export class MessageLengthError extends TorsionError {
  override name = 'MessageLengthError' as const;
  override readonly code = 'ERR_MESSAGE_LENGTH' as const;
  constructor(message = 'message is too long to send', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Joining or leaving a multicast group failed: the Deferred of
 * `joinGroup`/`leaveGroup` fails with it, the system's error as its `cause`.
 *
 * @see Twisted: twisted.internet.error.MulticastJoinError
 * @since 0.1.0
 */
export class MulticastJoinError extends TorsionError {
  override name = 'MulticastJoinError' as const;
  override readonly code = 'ERR_MULTICAST_JOIN' as const;
  /** The group's address. */
  readonly group: string;
  /** The local interface asked for (`''` for the default one). */
  readonly interface: string;
  /**
   * @param group - The group's address.
   * @param iface - The local interface (`''` for the default one).
   * @param reason - Why, such as the system's error code.
   */
  constructor(group: string, iface: string, reason: string, options?: ErrorOptions) {
    super(
      `Couldn't join or leave multicast group ${group}${iface === '' ? '' : ` on ${iface}`}: ${reason}`,
      options,
    );
    this.group = group;
    this.interface = iface;
  }
}

// ---------------------------------------------------------------------------
// Closed connections

/**
 * A connection is closed; `connectionLost` gets a subclass saying how.
 *
 * @see Twisted: twisted.internet.error.ConnectionClosed
 * @since 0.1.0
 */
export class ConnectionClosed extends TorsionError {
  override name: string = 'ConnectionClosed';
  override readonly code: string = 'ERR_CONNECTION_CLOSED';
}

/**
 * The connection was closed in a non-clean fashion: reset, broken, timed out.
 *
 * @see Twisted: twisted.internet.error.ConnectionLost
 * @since 0.1.0
 */
export class ConnectionLost extends ConnectionClosed {
  override name: string = 'ConnectionLost';
  override readonly code: string = 'ERR_CONNECTION_LOST';
  constructor(detail = '', options?: ErrorOptions) {
    super(
      `Connection to the other side was lost in a non-clean fashion${detail ? `: ${detail}` : ''}.`,
      options,
    );
  }
}

/**
 * This side aborted the connection with `abortConnection()`.
 *
 * @see Twisted: twisted.internet.error.ConnectionAborted
 * @since 0.1.0
 */
export class ConnectionAborted extends ConnectionLost {
  override name = 'ConnectionAborted' as const;
  override readonly code = 'ERR_CONNECTION_ABORTED' as const;
  constructor(
    detail = 'Connection was aborted locally using ITCPTransport.abortConnection',
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }
}

/**
 * The connection was closed cleanly: by `loseConnection()`, or by the peer
 * finishing its side.
 *
 * @see Twisted: twisted.internet.error.ConnectionDone
 * @since 0.1.0
 */
export class ConnectionDone extends ConnectionClosed {
  override name: string = 'ConnectionDone';
  override readonly code: string = 'ERR_CONNECTION_DONE';
  constructor(detail = '', options?: ErrorOptions) {
    super(`Connection was closed cleanly${detail ? `: ${detail}` : ''}.`, options);
  }
}

// ---------------------------------------------------------------------------
// Endpoint descriptions

/**
 * An endpoint description string (`'tcp:8080:interface=127.0.0.1'`) could
 * not be turned into an endpoint: an unknown type, a missing or extra
 * argument, a bad number, an unknown option, an unreadable key file.
 *
 * @remarks
 * The message names the description, the segment at fault and why, e.g.
 * `bad endpoint description 'tcp:http': segment 'http': port must be an
 * integer from 0 to 65535`. Thrown synchronously by `serverFromString` and
 * `clientFromString`.
 *
 * Differences from Twisted: Twisted raises `ValueError` (or `TypeError`, or
 * `KeyError`) depending on what went wrong.
 *
 * @since 0.1.0
 */
export class EndpointStringError extends TorsionError {
  override name = 'EndpointStringError' as const;
  override readonly code = 'ERR_ENDPOINT_STRING' as const;
  /** The whole description given. */
  readonly description: string;
  /** The segment at fault (as written, escapes included), or `''` for the whole description. */
  readonly segment: string;
  /** Why it was rejected. */
  readonly reason: string;

  /**
   * @param description - The whole description given.
   * @param segment - The segment at fault, or `''` when the fault is not in one segment.
   * @param reason - Why it was rejected.
   * @param options - `cause`.
   */
  constructor(description: string, segment: string, reason: string, options?: ErrorOptions) {
    super(
      `bad endpoint description '${description}': ${segment === '' ? '' : `segment '${segment}': `}${reason}`,
      options,
    );
    this.description = description;
    this.segment = segment;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------
// Child processes

/**
 * A signal name or number as Node reports it, turned into the signal's
 * number (`'SIGKILL'` → 9); `undefined` when unknown.
 */
function signalNumber(signal: string): number | undefined {
  return osSignals[signal];
}

/**
 * A child process ended with exit status 0: the reason given to
 * `processExited` and `processEnded` when all went well.
 *
 * @remarks
 * Its `exitCode` is 0 and its `signal` undefined, so code that reads
 * `reason.value.exitCode` works on both this and {@link ProcessTerminated}.
 *
 * @example
 * ```ts
 * override processEnded(reason: Failure): void {
 *   if (reason.check(ProcessDone)) console.log('finished cleanly');
 * }
 * ```
 *
 * @see Twisted: twisted.internet.error.ProcessDone
 * @since 0.1.0
 */
export class ProcessDone extends ConnectionDone {
  override name = 'ProcessDone' as const;
  override readonly code = 'ERR_PROCESS_DONE' as const;
  /** Always 0. */
  readonly exitCode = 0 as const;
  /** Always undefined: no signal ended it. */
  readonly signal: undefined = undefined;
  /** The wait status, as `waitpid` reports it: 0. */
  readonly status: number;

  /**
   * @param status - The wait status (0).
   * @param options - `cause`.
   */
  constructor(status = 0, options?: ErrorOptions) {
    super('', options);
    this.message =
      'A process has ended without apparent errors: process finished with exit code 0.';
    this.status = status;
  }
}

/**
 * A child process ended with a non-zero exit code, was killed by a signal,
 * or could not be started.
 *
 * @remarks
 * Exactly one of `exitCode` and `signal` is set. A process that could not be
 * started at all (no such executable, not executable, a working directory
 * that does not exist, a uid that cannot be taken) ends with `exitCode` 1,
 * as Twisted's child does when its `exec` fails, and carries Node's error
 * (`ENOENT`, `EACCES`, …) as its `cause`; its message says so.
 *
 * Differences from Twisted: `signal` is the signal's number as in Twisted,
 * and `signalName` its name (`'SIGTERM'`), which is what Node reports.
 *
 * @example
 * ```ts
 * override processEnded(reason: Failure): void {
 *   const error = reason.value;
 *   if (error instanceof ProcessTerminated) console.log(error.exitCode ?? error.signalName);
 * }
 * ```
 *
 * @see Twisted: twisted.internet.error.ProcessTerminated
 * @since 0.1.0
 */
export class ProcessTerminated extends ConnectionLost {
  override name = 'ProcessTerminated' as const;
  override readonly code = 'ERR_PROCESS_TERMINATED' as const;
  /** The exit code, or undefined when a signal ended the process. */
  readonly exitCode: number | undefined;
  /** The number of the signal that ended the process, or undefined. */
  readonly signal: number | undefined;
  /** The name of that signal (`'SIGKILL'`), or undefined. */
  readonly signalName: string | undefined;
  /**
   * The wait status, as `waitpid` reports it: `exitCode << 8`, or the
   * signal's number.
   */
  readonly status: number;

  /**
   * @param exitCode - The exit code, when the process exited.
   * @param signal - The signal that ended it: its name (`'SIGKILL'`) or number.
   * @param options - `cause`: the error that kept the process from starting.
   */
  constructor(
    exitCode?: number | undefined,
    signal?: string | number | undefined,
    options: ErrorOptions = {},
  ) {
    super('', options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
    if (typeof signal === 'number') {
      this.signal = signal;
      this.signalName = Object.entries(osSignals).find(([, n]) => n === signal)?.[0];
    } else if (typeof signal === 'string') {
      this.signalName = signal;
      this.signal = signalNumber(signal);
    } else {
      this.signal = undefined;
      this.signalName = undefined;
    }
    this.status = this.signal ?? ((exitCode ?? 0) & 0xff) << 8;
    const how =
      options.cause !== undefined
        ? `it could not be started (${options.cause instanceof Error ? options.cause.message : String(options.cause)})`
        : this.signalName !== undefined || this.signal !== undefined
          ? `process ended by signal ${this.signalName ?? this.signal}`
          : `process ended with exit code ${exitCode}`;
    this.message = `A process has ended with a probable error condition: ${how}.`;
  }
}

/**
 * The process has exited already: it can no longer be signalled.
 *
 * @remarks
 * Thrown by `signalProcess` once the process has exited, as Twisted does.
 *
 * @see Twisted: twisted.internet.error.ProcessExitedAlready
 * @since 0.1.0
 */
export class ProcessExitedAlready extends TorsionError {
  override name = 'ProcessExitedAlready' as const;
  override readonly code = 'ERR_PROCESS_EXITED_ALREADY' as const;
  constructor(detail = '', options?: ErrorOptions) {
    super(
      `The process has already exited and the operation requested can no longer be performed${detail ? `: ${detail}` : ''}.`,
      options,
    );
  }
}
