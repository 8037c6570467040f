// The shapes of the transport conformance suite: a builder per transport,
// what it declares it can do, the connections it makes, and the behaviours
// (sets of cases) run over every builder. See transports.test.ts for how to
// add a transport. Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import type { TestContext } from 'node:test';
import type { IAddress, IProtocol } from 'torsion/reactor';
import type { StringTransport } from 'torsion/testing';

/** What a two-sided transport can do; a case that needs more is skipped with its reason. */
export interface Capabilities {
  /**
   * How bytes move: `'pump'` when the test pumps (iosim), `'clock'` when a
   * deterministic clock is advanced (loopbackAsync), `'loop'` when Node's
   * event loop carries them over real sockets.
   */
  readonly delivery: 'pump' | 'clock' | 'loop';
  /** The connection is a real socket on a NodeReactor. */
  readonly realSockets: boolean;
  /** The bytes are encrypted below the transport (TLS). */
  readonly tls: boolean;
  /** What getHost/getPeer return: IP addresses, UNIX addresses, or in-memory stand-ins. */
  readonly addresses: 'ip' | 'unix' | 'fake';
  /** `loseWriteConnection()` and `IHalfCloseableProtocol` are supported. */
  readonly halfClose: boolean;
  /** `abortConnection()` is part of the transport (ITCPTransport). */
  readonly abort: boolean;
  /** The transport is a push producer of what it reads (`pauseProducing` stops `dataReceived`). */
  readonly readPause: boolean;
  /** A streaming producer is paused when the write buffer passes the high-water mark. */
  readonly highWater: boolean;
  /**
   * A throw from a protocol callback is caught by the transport, logged, and
   * drops that connection. In-memory doubles let it reach the test instead,
   * as Twisted's iosim does.
   */
  readonly callbackErrors: boolean;
}

/**
 * Two connected protocols and the means to let their bytes flow.
 *
 * @remarks
 * Nothing is assumed to have moved when `connect` returns: both protocols
 * have had `makeConnection`, and what they wrote flows once the test waits.
 */
export interface Connection<S extends IProtocol, C extends IProtocol> {
  /** The accepting side's protocol. */
  readonly server: S;
  /** The connecting side's protocol. */
  readonly client: C;
  /**
   * Lets bytes and closes flow until `predicate` holds; fails naming `what`
   * if it cannot hold (nothing left to move, or the time bound passed).
   */
  until(predicate: () => boolean, what: string): Promise<void>;
  /**
   * Lets everything already written or closed arrive, so that a test can
   * check that something did NOT happen. For real sockets: several turns of
   * the event loop, each with an I/O poll (loopback writes reach the kernel
   * at once).
   */
  settle(): Promise<void>;
}

/** Where connections are accepted: one listener serves many connections. */
export interface Listener<S extends IProtocol> {
  /** The listening address, when the transport has one. */
  readonly address: IAddress | undefined;
  /**
   * Connects a new client; resolves once both protocols have had
   * `makeConnection`, or rejects with {@link ConnectFailed} if the attempt
   * failed (a server that drops the connection at once can beat the client).
   */
  connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>>;
  /** As {@link Connection.until}, over every connection of this listener. */
  until(predicate: () => boolean, what: string): Promise<void>;
}

/** A connection attempt failed before the client protocol was built. */
export class ConnectFailed extends Error {
  override name = 'ConnectFailed';
}

/**
 * The tests registered as `todo` (a known bug): their waits give up sooner,
 * so that a known hang costs a second rather than the full bound.
 */
export const knownBugs = new WeakSet<TestContext>();

/** A transport that connects two protocols. */
export interface PairBuilder {
  readonly kind: 'pair';
  /** Shown as the `describe` name. */
  readonly name: string;
  readonly capabilities: Capabilities;
  /** Per-test time bound, in milliseconds. */
  readonly timeout: number;
  /**
   * Starts a listener serving protocols from `makeServer`; everything it
   * opens is closed (and checked closed) when test `t` ends.
   */
  listen<S extends IProtocol>(t: TestContext, makeServer: () => S): Listener<S>;
}

/** A one-sided double: the test plays the peer (StringTransport). */
export interface SingleBuilder {
  readonly kind: 'single';
  readonly name: string;
  readonly timeout: number;
  /** Attaches `protocol` to a new transport (`makeConnection`) and returns it. */
  attach(protocol: IProtocol): StringTransport;
}

/** Every kind of builder. */
export type TransportBuilder = PairBuilder | SingleBuilder;

/**
 * One check of a behaviour. `pair` runs on two-sided builders, `single` on
 * one-sided doubles; a builder with no matching function, or for which
 * `skip` gives a reason, gets the case registered as skipped with that
 * reason. `todo` marks a case that fails today because of a known bug.
 */
export interface Case {
  readonly name: string;
  readonly pair?: (b: PairBuilder, t: TestContext) => Promise<void>;
  readonly single?: (b: SingleBuilder) => void | Promise<void>;
  /** Why this case does not apply to `b`, if it does not. */
  readonly skip?: (b: PairBuilder) => string | undefined;
  /** Why this case is expected to fail on `b` today (a known bug), if it is. */
  readonly todo?: (b: TransportBuilder) => string | undefined;
  /** Why the case has no one-sided form. @defaultValue a generic reason */
  readonly singleSkip?: string;
}

/** A behaviour of the transport contract: a named set of cases. */
export interface Behaviour {
  readonly name: string;
  readonly cases: readonly Case[];
}

/** Listens with `makeServer` and connects one client made by `makeClient`. */
export async function connectPair<S extends IProtocol, C extends IProtocol>(
  b: PairBuilder,
  t: TestContext,
  makeServer: () => S,
  makeClient: () => C,
): Promise<Connection<S, C>> {
  return b.listen(t, makeServer).connect(makeClient);
}
