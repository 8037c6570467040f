// Protocols handle the events of one connection; factories make a protocol
// for each connection (Twisted: twisted.internet.protocol).
// Tests: test/unit/internet/protocol.test.ts, test/reliability/callbacks.test.ts

/**
 * Protocols and factories: a `Protocol` handles the events of one connection
 * (`connectionMade`, `dataReceived`, `connectionLost`) and writes to its
 * transport; a `Factory` makes a protocol for each connection and holds
 * what the connections share. Also `ClientFactory`,
 * `ReconnectingClientFactory`, `ClientCreator`, the datagram and process
 * protocols, the addresses and the connection errors.
 *
 * Every server and client starts here. Twisted:
 * `twisted.internet.protocol` (and `twisted.internet.error` for the errors).
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { reactor } from 'torsion/reactor';
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Buffer): void {
 *     this.transport?.write(data);
 *   }
 * }
 * reactor.listenTCP(8000, Factory.forProtocol(Echo));
 * await reactor.run();
 * ```
 *
 * @module torsion/protocol
 * @primaryExport
 */

import type { ConnectionOptions } from 'node:tls';
import { Logger } from '../logger/logger.js';
import { requireClock } from './_require-clock.js';
import { Deferred } from './defer.js';
import { ConnectionDone, NotConnectingError } from './error.js';
import { Failure } from './failure.js';
import type {
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IAddress,
  IConnector,
  IDatagramProtocol,
  IDelayedCall,
  IProcessProtocol,
  IProcessTransport,
  IProtocol,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
  ITCPTransport,
  ITransport,
  IUDPTransport,
} from './interfaces.js';

export {
  HostnameAddress,
  type IPAddress,
  type IPTransportType,
  IPv4Address,
  IPv6Address,
  UNIXAddress,
} from './address.js';
export {
  BadFileError,
  BindError,
  CannotListenError,
  ConnectBindError,
  ConnectError,
  type ConnectErrorOptions,
  ConnectingCancelledError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  InvalidAddressError,
  MessageLengthError,
  MulticastJoinError,
  NoProtocol,
  NoRouteError,
  NotConnectingError,
  NotListeningError,
  ProcessDone,
  ProcessExitedAlready,
  ProcessTerminated,
  SSLError,
  TCPTimedOutError,
  TimeoutError,
  UnknownHostError,
  UserError,
} from './error.js';
export type {
  IAddress,
  IConnector,
  IConsumer,
  IHalfCloseableProtocol,
  IListeningPort,
  IProducer,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  ITransport,
} from './interfaces.js';

const log = new Logger('torsion.internet.protocol');

/**
 * The reason given to `connectionLost` for a clean close.
 *
 * @see Twisted: twisted.internet.protocol.connectionDone
 * @since 0.1.0
 */
export const connectionDone: Failure = new Failure(new ConnectionDone());

/**
 * The base class of stream protocols: override the event methods you need.
 *
 * @remarks
 * The reactor calls, in this order:
 *
 * ```
 * start → makeConnection → connectionMade → dataReceived* → connectionLost → end
 * ```
 *
 * `dataReceived` gets whatever bytes arrived: part of a message, or several
 * messages at once. Buffer what is incomplete, and test with every chunk
 * size down to one byte. `connectionLost` is called exactly once, with a
 * Failure of `ConnectionDone` for a clean close and of `ConnectionLost`
 * otherwise. A throw from `dataReceived` or `connectionMade` (or, for a
 * half-closing protocol, `readConnectionLost` and `writeConnectionLost`) is
 * logged with its stack and aborts this connection only; one from
 * `connectionLost` is logged. So is a throw from the `pauseProducing` or
 * `resumeProducing` of a producer registered on the transport: logged, and
 * the connection aborted (`connectionLost` gets a `ConnectionAborted` whose
 * `cause` is the error), whatever called the transport.
 *
 * Write with `this.transport.write(bytes)`; the transport is a push producer
 * of what it reads (`pauseProducing()` stops `dataReceived`).
 *
 * @example
 * ```ts
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 * reactor.listenTCP(8000, Factory.forProtocol(Echo));
 * ```
 *
 * The factory that built the protocol is `this.factory`; name its class as
 * the second type parameter (or, on the framing receivers of
 * `torsion/protocols/basic`, the first) to use it typed, without a cast:
 *
 * ```ts
 * class Finger extends LineReceiver<FingerFactory> {
 *   override lineReceived(user: Buffer): void {
 *     this.sendLine(this.factory.getUser(user.toString('utf8')));
 *   }
 * }
 * class FingerFactory extends Factory<Finger> {
 *   override protocol = Finger;
 *   getUser(user: string): string {
 *     return `${user}: no plan`;
 *   }
 * }
 * ```
 *
 * `declare factory: FingerFactory` in the class body does the same.
 *
 * @typeParam T - The transport type; TCP by default.
 * @typeParam F - The type of the factory that builds it, `this.factory`;
 *   by default any `Factory`, or `undefined` for a protocol made by hand.
 * @see Twisted: twisted.internet.protocol.Protocol
 * @since 0.1.0
 */
export class Protocol<
  T extends ITransport = ITCPTransport,
  F extends IProtocolFactory | undefined = Factory | undefined,
> implements IProtocol
{
  /** The connection's transport, set by `makeConnection`. */
  transport!: T;
  /**
   * The factory that built this protocol: set by `Factory.buildProtocol`
   * (`undefined` for a protocol made by hand).
   */
  factory!: F;
  /** Whether `makeConnection` has been called. */
  connected = false;

  /** Attaches the transport and calls `connectionMade`. Transports call this. */
  makeConnection(transport: T): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /** Called when the connection is made: send any greeting here. */
  connectionMade(): void {}

  /**
   * Called with bytes as they arrive, in any fragments.
   *
   * @param _data - The bytes (a `Buffer` on Node's transports).
   */
  dataReceived(_data: Uint8Array): void {}

  /**
   * Called once when the connection is closed.
   *
   * @param _reason - A Failure of `ConnectionDone` (clean) or `ConnectionLost`.
   */
  connectionLost(_reason: Failure = connectionDone): void {}

  /** The name used for this protocol in log messages: its class name. */
  logPrefix(): string {
    return this.constructor.name;
  }
}

/** A protocol class with a no-argument constructor. */
export type ProtocolClass<P extends IProtocol = IProtocol> = new () => P;

/**
 * Makes a protocol for each connection of the ports and connectors it is
 * given to.
 *
 * @remarks
 * Set `protocol` (or use {@link Factory.forProtocol}) and `buildProtocol`
 * makes an instance per connection, with its `factory` set to this factory;
 * override `buildProtocol` to do more, or to return `null` and refuse the
 * connection. State shared by all connections belongs on the factory.
 *
 * `doStart`/`doStop` are called by each port or connector that starts or
 * stops using the factory; `startFactory` runs when the first one starts and
 * `stopFactory` when the last one stops.
 *
 * @example
 * ```ts
 * class ChatFactory extends Factory<Chat> {
 *   override protocol = Chat;
 *   readonly users = new Map<string, Chat>();
 * }
 * ```
 *
 * @see Twisted: twisted.internet.protocol.Factory
 * @since 0.1.0
 */
export class Factory<P extends IProtocol = IProtocol> implements IProtocolFactory {
  /** The protocol class `buildProtocol` instantiates. */
  protocol: ProtocolClass<P> | undefined;
  /** How many ports and connectors use this factory now. */
  numPorts = 0;
  /** Whether starting and stopping are logged (at `info`). */
  noisy = true;

  /**
   * Makes a factory of this class for `protocol`.
   *
   * @param protocol - The protocol class.
   * @param args - Arguments for this factory class's constructor.
   */
  static forProtocol<F extends Factory<P>, P extends IProtocol, A extends unknown[]>(
    this: new (
      ...args: A
    ) => F,
    protocol: ProtocolClass<P>,
    ...args: A
  ): F {
    const factory = new this(...args);
    factory.protocol = protocol;
    return factory;
  }

  /** Called by a port or connector that starts using this factory. */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.info('Starting factory {factory}', { factory: this.logPrefix() });
      this.startFactory();
    }
    this.numPorts++;
  }

  /** Called by a port or connector that stops using this factory. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts--;
    if (this.numPorts === 0) {
      if (this.noisy) log.info('Stopping factory {factory}', { factory: this.logPrefix() });
      this.stopFactory();
    }
  }

  /** Called once, before the first port or connector starts using the factory. */
  startFactory(): void {}

  /** Called once, when the last port or connector stops using it. */
  stopFactory(): void {}

  /**
   * Makes the protocol for a connection from or to `addr`.
   *
   * @param _addr - The address of the other end.
   * @returns A new protocol with `factory` set, or `null` to refuse the connection.
   * @throws Error if `protocol` is not set.
   */
  buildProtocol(_addr: IAddress): P | null {
    const protocolClass = this.protocol;
    if (protocolClass === undefined) {
      throw new Error(
        `${this.logPrefix()} has no protocol: set its protocol or override buildProtocol`,
      );
    }
    const protocol = new protocolClass();
    (protocol as { factory?: unknown }).factory = this;
    return protocol;
  }

  /** The name used for this factory in log messages: its class name. */
  logPrefix(): string {
    return this.constructor.name;
  }
}

/**
 * A factory meant for servers only.
 *
 * @see Twisted: twisted.internet.protocol.ServerFactory
 * @since 0.1.0
 */
export class ServerFactory<P extends IProtocol = IProtocol> extends Factory<P> {}

/**
 * A factory for outgoing connections, told how each attempt went.
 *
 * @remarks
 * The reactor's connectors call these hooks from socket events and timers:
 * a throw from `startedConnecting`, `clientConnectionFailed`,
 * `clientConnectionLost` or `stopFactory` is logged with its stack and the
 * connector goes on as if the hook had returned; the process lives. A throw
 * from `startFactory` (through `doStart`) propagates out of `connectTCP`
 * (or `connector.connect()`) before anything is opened.
 *
 * @see Twisted: twisted.internet.protocol.ClientFactory
 * @since 0.1.0
 */
export class ClientFactory<P extends IProtocol = IProtocol> extends Factory<P> {
  /**
   * Called when an attempt starts; `connector.stopConnecting()` abandons it.
   */
  startedConnecting(_connector: IConnector): void {}

  /**
   * Called when an attempt fails; `connector.connect()` tries again.
   *
   * @param _connector - The connector.
   * @param _reason - Why, such as a `ConnectionRefusedError` or `TimeoutError`.
   */
  clientConnectionFailed(_connector: IConnector, _reason: Failure): void {}

  /**
   * Called when an established connection is lost; `connector.connect()`
   * reconnects.
   */
  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}
}

/** Options of {@link ReconnectingClientFactory}. */
export interface ReconnectingClientFactoryOptions {
  /**
   * Schedules the retries: the reactor the connector belongs to, or a
   * `Clock` in tests. Required: nothing falls back to real time.
   */
  clock: IReactorTime;
  /** Most seconds between attempts. @defaultValue 3600 */
  maxDelay?: number;
  /** Seconds before the first retry. @defaultValue 1 */
  initialDelay?: number;
  /** How much the delay grows each time. @defaultValue Math.E */
  factor?: number;
  /** How much the delay varies at random, as a fraction of it. @defaultValue 0.119626565582 */
  jitter?: number;
  /** Give up after this many failures in a row. @defaultValue no limit */
  maxRetries?: number | undefined;
  /** Uniform random numbers in [0, 1) for the jitter. @defaultValue Math.random */
  random?: () => number;
}

/**
 * A client factory that reconnects whenever the connection fails or is lost,
 * waiting longer each time (exponential back-off with jitter).
 *
 * @remarks
 * After `n` failures in a row the wait is about
 * `min(initialDelay · factorⁿ, maxDelay)`, varied by a normally distributed
 * `jitter` so that many clients do not retry together. Call
 * {@link ReconnectingClientFactory.resetDelay} once connected (usually in
 * `buildProtocol` or `connectionMade`), and
 * {@link ReconnectingClientFactory.stopTrying} to give up.
 *
 * A retry is a timed call of `clock`: if its `connector.connect()` throws
 * (the factory's `startFactory`, say), the reactor logs the error and there
 * is no further retry, as in Twisted.
 *
 * Differences from Twisted: the `clock` is a required option (Twisted's
 * attribute defaults to the global reactor, so a forgotten clock retries on
 * real time even in a test).
 *
 * @example
 * ```ts
 * class Client extends ReconnectingClientFactory<Chat> {
 *   override protocol = Chat;
 *   override buildProtocol(addr: IAddress) { this.resetDelay(); return super.buildProtocol(addr); }
 * }
 * reactor.connectTCP('chat.example', 6667, new Client({ clock: reactor }));
 * ```
 *
 * @see Twisted: twisted.internet.protocol.ReconnectingClientFactory
 * @since 0.1.0
 */
export class ReconnectingClientFactory<P extends IProtocol = IProtocol> extends ClientFactory<P> {
  /** Most seconds between attempts. */
  maxDelay: number;
  /** Seconds before the first retry. */
  initialDelay: number;
  /** How much the delay grows each time. */
  factor: number;
  /** How much the delay varies at random, as a fraction of it. */
  jitter: number;
  /** Give up after this many failures in a row; `undefined` for never. */
  maxRetries: number | undefined;
  /** The current delay, in seconds. */
  delay: number;
  /** Failures in a row so far. */
  retries = 0;
  /** False once {@link ReconnectingClientFactory.stopTrying} was called. */
  continueTrying = true;
  /** The connector being retried. */
  connector: IConnector | undefined;
  /** Schedules the retries; replace it, if you must, before the first retry. */
  clock: IReactorTime;
  readonly #random: () => number;
  #callID: IDelayedCall | undefined;

  /**
   * @param options - The clock (required) and the back-off; see
   *   {@link ReconnectingClientFactoryOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   */
  constructor(options: ReconnectingClientFactoryOptions) {
    super();
    this.clock = requireClock(
      (options as Partial<ReconnectingClientFactoryOptions> | undefined)?.clock,
      'ReconnectingClientFactory needs a clock option (IReactorTime)',
    );
    this.maxDelay = options.maxDelay ?? 3600;
    this.initialDelay = options.initialDelay ?? 1.0;
    this.factor = options.factor ?? Math.E;
    this.jitter = options.jitter ?? 0.119626565582;
    this.maxRetries = options.maxRetries;
    this.delay = this.initialDelay;
    this.#random = options.random ?? Math.random;
  }

  override clientConnectionFailed(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  override clientConnectionLost(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /**
   * Schedules `connector.connect()` after the next delay.
   *
   * @param connector - Default: the connector last seen.
   * @throws Error if there is no connector to retry.
   */
  retry(connector?: IConnector): void {
    if (!this.continueTrying) {
      if (this.noisy)
        log.info('Abandoning {connector} on explicit request', { connector: String(connector) });
      return;
    }
    const target = connector ?? this.connector;
    if (target === undefined) throw new Error('no connector to retry');
    this.retries++;
    if (this.maxRetries !== undefined && this.retries > this.maxRetries) {
      if (this.noisy) {
        log.info('Abandoning {connector} after {retries} retries.', {
          connector: String(target),
          retries: this.retries,
        });
      }
      return;
    }
    this.delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter) this.delay = normalVariate(this.delay, this.delay * this.jitter, this.#random);
    if (this.noisy) {
      log.info('{connector} will retry in {delay} seconds', {
        connector: String(target),
        delay: Math.round(this.delay),
      });
    }
    this.#callID = this.clock.callLater(Math.max(0, this.delay), () => {
      this.#callID = undefined;
      target.connect();
    });
  }

  /** Stops reconnecting, and stops an attempt in progress. */
  stopTrying(): void {
    this.#callID?.cancel();
    this.#callID = undefined;
    this.continueTrying = false;
    if (this.connector !== undefined) {
      try {
        this.connector.stopConnecting();
      } catch (error) {
        if (!(error instanceof NotConnectingError)) throw error;
      }
    }
  }

  /** Call after connecting: resets the delay and the failure count. */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this.#callID = undefined;
    this.continueTrying = true;
  }
}

/** A normally distributed random number (Box–Muller), as Python's random.normalvariate. */
function normalVariate(mean: number, deviation: number, random: () => number): number {
  const u = 1 - random();
  const v = random();
  return mean + deviation * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The factory behind {@link ClientCreator}: hands out one prepared protocol. */
class InstanceFactory<P extends IProtocol> extends ClientFactory<P> {
  override noisy = false;
  pending: IDelayedCall | undefined;
  #deferred: Deferred<P> | undefined;
  readonly #instance: P;
  readonly #clock: IReactorTime;

  constructor(clock: IReactorTime, instance: P, deferred: Deferred<P>) {
    super();
    this.#clock = clock;
    this.#instance = instance;
    this.#deferred = deferred;
  }

  override buildProtocol(_addr: IAddress): P {
    const d = this.#deferred;
    this.#deferred = undefined;
    if (d !== undefined) this.#fireLater(() => d.callback(this.#instance));
    return this.#instance;
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    const d = this.#deferred;
    this.#deferred = undefined;
    if (d !== undefined) this.#fireLater(() => d.errback(reason));
  }

  #fireLater(fire: () => void): void {
    // Fired on the next turn, as Twisted does, so that the protocol has its
    // transport and connectionMade has run by the time the caller sees it.
    this.pending = this.#clock.callLater(0, () => {
      this.pending = undefined;
      fire();
    });
  }

  override toString(): string {
    return `<ClientCreator factory: ${String(this.#instance)}>`;
  }
}

/** What {@link ClientCreator} needs of a reactor. */
export type ClientCreatorReactor = IReactorTime & Partial<IReactorTCP & IReactorUNIX & IReactorSSL>;

/**
 * Connects a new instance of a protocol class, without writing a factory.
 *
 * @remarks
 * Each `connect…` method returns a Deferred that fires with the connected
 * protocol (once `connectionMade` has run) or fails with the reason the
 * connection could not be made.
 *
 * Cancellation: cancelling the Deferred disconnects the connector; the
 * Deferred fails with `CancelledError`.
 *
 * @see Twisted: twisted.internet.protocol.ClientCreator
 * @since 0.1.0
 */
export class ClientCreator<P extends IProtocol, A extends unknown[] = []> {
  readonly #reactor: ClientCreatorReactor;
  readonly #protocolClass: new (
    ...args: A
  ) => P;
  readonly #args: A;

  /**
   * @param reactor - Connects, and schedules the result.
   * @param protocolClass - The protocol to instantiate.
   * @param args - Arguments for its constructor.
   */
  constructor(reactor: ClientCreatorReactor, protocolClass: new (...args: A) => P, ...args: A) {
    this.#reactor = reactor;
    this.#protocolClass = protocolClass;
    this.#args = args;
  }

  /** Connects over TCP to `host:port`. */
  connectTCP(host: string, port: number, options?: ConnectTCPOptions): Deferred<P> {
    const connectTCP = this.#require('connectTCP');
    return this.#connect((factory) => connectTCP.call(this.#reactor, host, port, factory, options));
  }

  /** Connects to the UNIX socket at `address`. */
  connectUNIX(address: string, options?: ConnectUNIXOptions): Deferred<P> {
    const connectUNIX = this.#require('connectUNIX');
    return this.#connect((factory) => connectUNIX.call(this.#reactor, address, factory, options));
  }

  /** Connects with TLS to `host:port`. */
  connectSSL(
    host: string,
    port: number,
    contextFactory: ConnectionOptions,
    options?: ConnectTCPOptions,
  ): Deferred<P> {
    const connectSSL = this.#require('connectSSL');
    return this.#connect((factory) =>
      connectSSL.call(this.#reactor, host, port, factory, contextFactory, options),
    );
  }

  #require<K extends 'connectTCP' | 'connectUNIX' | 'connectSSL'>(
    method: K,
  ): NonNullable<ClientCreatorReactor[K]> {
    const f = this.#reactor[method];
    if (typeof f !== 'function')
      throw new TypeError(`the reactor given to ClientCreator has no ${method}`);
    return f as NonNullable<ClientCreatorReactor[K]>;
  }

  #connect(start: (factory: IProtocolFactory) => IConnector): Deferred<P> {
    let connector: IConnector | undefined;
    let factory: InstanceFactory<P> | undefined;
    const d = new Deferred<P>(() => {
      connector?.disconnect();
      factory?.pending?.cancel();
    });
    factory = new InstanceFactory(this.#reactor, new this.#protocolClass(...this.#args), d);
    connector = start(factory);
    return d;
  }
}

/**
 * The base class of UDP protocols.
 *
 * @remarks
 * `startProtocol` runs when the first port starts using the protocol and
 * `stopProtocol` when the last one stops; `datagramReceived` gets each
 * datagram with its sender's `[host, port]`.
 *
 * @see Twisted: twisted.internet.protocol.DatagramProtocol
 * @since 0.1.0
 */
export class DatagramProtocol implements IDatagramProtocol {
  /** The socket's transport, while connected. */
  transport: IUDPTransport | undefined;
  /** How many ports use this protocol. */
  numPorts = 0;
  /** Whether starting and stopping are logged. */
  noisy = true;

  /** Called by the port; calls `startProtocol` the first time. */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.info('Starting protocol {protocol}', { protocol: this.constructor.name });
      this.startProtocol();
    }
    this.numPorts++;
  }

  /** Called by the port; calls `stopProtocol` when no port is left. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts--;
    this.transport = undefined;
    if (this.numPorts === 0) {
      if (this.noisy) log.info('Stopping protocol {protocol}', { protocol: this.constructor.name });
      this.stopProtocol();
    }
  }

  /** Attaches the transport and calls `doStart`. */
  makeConnection(transport: IUDPTransport): void {
    this.transport = transport;
    this.doStart();
  }

  /** Called when the socket is ready. */
  startProtocol(): void {}

  /** Called when the last port stops. */
  stopProtocol(): void {}

  /**
   * Called with each datagram.
   *
   * @param _data - The datagram.
   * @param _addr - The sender's `[host, port]`.
   */
  datagramReceived(_data: Uint8Array, _addr: readonly [string, number]): void {}

  /** Called when a datagram sent to a connected peer was refused. */
  connectionRefused(): void {}
}

/**
 * The base class of child-process protocols: dispatches output by
 * descriptor to `outReceived`/`errReceived`, and closes to the `…ConnectionLost`
 * methods.
 *
 * @remarks
 * Give one to `reactor.spawnProcess`. The events come in this order:
 * `connectionMade` (during `spawnProcess`), then output and the closing of
 * each descriptor, `processExited` when the process has exited, and last
 * `processEnded`, once the process has exited AND every descriptor is
 * closed, so that no output is missed. Both get a `ProcessDone` (exit
 * code 0) or a `ProcessTerminated` (`exitCode` or `signal`). A callback that
 * throws is logged; the other events still come.
 *
 * @example
 * ```ts
 * class WordCount extends ProcessProtocol {
 *   #out: Buffer[] = [];
 *   override connectionMade(): void {
 *     this.transport.write(Buffer.from('one two three'));
 *     this.transport.closeStdin();
 *   }
 *   override outReceived(data: Uint8Array): void {
 *     this.#out.push(Buffer.from(data));
 *   }
 *   override processEnded(reason: Failure): void {
 *     console.log(Buffer.concat(this.#out).toString().trim(), reason.value);
 *   }
 * }
 * reactor.spawnProcess(new WordCount(), 'wc', ['wc', '-w']);
 * ```
 *
 * @see Twisted: twisted.internet.protocol.ProcessProtocol
 * @since 0.1.0
 */
export class ProcessProtocol implements IProcessProtocol {
  /** The process's transport, set by `makeConnection`. */
  transport!: IProcessTransport;
  /** Whether `makeConnection` has been called. */
  connected = false;

  /** Attaches the process transport and calls `connectionMade`. */
  makeConnection(process: IProcessTransport): void {
    this.connected = true;
    this.transport = process;
    this.connectionMade();
  }

  /** Called when the process has started. */
  connectionMade(): void {}

  /** Sends descriptor 1 to `outReceived` and 2 to `errReceived`. */
  childDataReceived(childFD: number, data: Uint8Array): void {
    if (childFD === 1) this.outReceived(data);
    else if (childFD === 2) this.errReceived(data);
  }

  /** Called with output from the child's standard output. */
  outReceived(_data: Uint8Array): void {}

  /** Called with output from the child's standard error. */
  errReceived(_data: Uint8Array): void {}

  /** Sends descriptor 0, 1 and 2 closes to their `…ConnectionLost` methods. */
  childConnectionLost(childFD: number): void {
    if (childFD === 0) this.inConnectionLost();
    else if (childFD === 1) this.outConnectionLost();
    else if (childFD === 2) this.errConnectionLost();
  }

  /** Called when the child's standard input is closed. */
  inConnectionLost(): void {}

  /** Called when the child's standard output is closed. */
  outConnectionLost(): void {}

  /** Called when the child's standard error is closed. */
  errConnectionLost(): void {}

  /** Called when the process has exited (`ProcessDone` or `ProcessTerminated`). */
  processExited(_reason: Failure): void {}

  /** Called when it has exited and all its descriptors are closed. */
  processEnded(_reason: Failure): void {}
}
