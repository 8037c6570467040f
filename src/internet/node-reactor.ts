// NodeReactor: Twisted's reactor model over Node's event loop. libuv is the
// multiplexer; this class adds Twisted's timed calls, life cycle and system
// events on top of it.
// Tests: test/integration/node-reactor.test.ts

import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { Logger } from '../logger/logger.js';
import { bindAllMethods } from './_bind.js';
import { Connector } from './_connector.js';
import { lookupAll } from './_resolver.js';
import type { Disconnectable, SocketHost } from './_stream-transport.js';
import { SystemEvents } from './_system-events.js';
import { type DelayedCall, TimedCallQueue } from './_timed-calls.js';
import type { IPAddress, IPv4Address, IPv6Address, UNIXAddress } from './address.js';
import { Deferred, succeed } from './defer.js';
import {
  ConnectionLost,
  DNSLookupError,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from './error.js';
import type {
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IConnector,
  IDatagramProtocol,
  IHostnameResolver,
  IListeningPort,
  IMulticastTransport,
  IProcessProtocol,
  IProcessTransport,
  IProtocolFactory,
  IReactorCore,
  IReactorMulticast,
  IReactorProcess,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  IUDPTransport,
  ListenMulticastOptions,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
  RunOptions,
  SpawnProcessOptions,
  SystemEventPhase,
  SystemEventTriggerID,
  SystemEventType,
} from './interfaces.js';
import { Process } from './process.js';
import { TCPPort, tcpTarget, tlsTarget } from './tcp.js';
import { UDPPort } from './udp.js';
import { connectUNIX, UNIXPort } from './unix.js';

const log = new Logger('torsion.internet.reactor');

/** Node's timers take at most 2^31 - 1 ms; longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The signals that stop a running reactor, and the exit status each implies. */
const STOP_SIGNALS: ReadonlyArray<[NodeJS.Signals, number]> = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
];

/**
 * The reactor for Node.js: it waits for events and calls your code.
 *
 * @remarks
 * Node's own loop (libuv) already waits on sockets, files and timers, so
 * I/O set up through this reactor works whether or not {@link NodeReactor.run}
 * was called. What `run()` adds is Twisted's life cycle: the `startup`
 * triggers, keeping the process alive until {@link NodeReactor.stop} (or
 * SIGINT/SIGTERM), and the `shutdown` triggers, whose `before` phase may
 * return Deferreds that shutdown waits for.
 *
 * Timed calls live in one heap and use a single Node timer, armed for the
 * earliest call. Once the reactor has stopped (or crashed), timed calls
 * are held and no timer keeps the process alive; running it again after a
 * crash releases them. Calls due at the same time run in the order they were
 * scheduled; a call scheduled while timed calls are running (even with
 * delay 0) runs on a later turn of the loop, after pending I/O. An exception
 * thrown by a timed call or a trigger is logged with its traceback and the
 * loop goes on.
 *
 * Creating a NodeReactor starts nothing: no timer, no signal handler.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 * reactor.callLater(1, () => { console.log('a second later'); reactor.stop(); });
 * await reactor.run();
 * ```
 *
 * @see Twisted: twisted.internet.base.ReactorBase
 * @since 0.1.0
 */
export class NodeReactor
  implements
    IReactorCore,
    IReactorTime,
    IReactorTCP,
    IReactorUNIX,
    IReactorSSL,
    IReactorUDP,
    IReactorMulticast,
    IReactorProcess,
    IHostnameResolver
{
  readonly #calls: TimedCallQueue = new TimedCallQueue(
    () => this.seconds(),
    () => this.#rearm(),
  );
  /** The armed Node timer, if any: a timeout, or an immediate for calls already due. */
  #timeout: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  /** The reactor time the armed timer is for; Infinity when none is armed. */
  #timerDue = Number.POSITIVE_INFINITY;
  readonly #events = new SystemEvents();
  #running = false;
  /** run() was called and the reactor has not crashed or stopped since. */
  #started = false;
  /** stop() was called (or the reactor never started): stop() may not be called again. */
  #stopped = true;
  /** The reactor has been stopped once: it cannot run again. */
  #startedBefore = false;
  #installSignalHandlers = true;
  #keepAlive: NodeJS.Timeout | null = null;
  #finishRun: (() => void) | null = null;
  #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  #exitSignal: NodeJS.Signals | undefined;
  /**
   * Timed calls are held (not run) after the reactor crashed or stopped, as
   * Twisted's stopped loop runs none; run() releases them.
   */
  #halted = false;
  /** The open ports and connections, closed at shutdown. */
  readonly #open = new Set<Disconnectable>();
  /** What ports, connectors and transports use of this reactor. */
  readonly #socketHost: SocketHost = {
    seconds: () => this.seconds(),
    callLater: (delay, f, ...args) => this.callLater(delay, f, ...args),
    getDelayedCalls: () => this.getDelayedCalls(),
    track: (item) => {
      this.#open.add(item);
    },
    untrack: (item) => {
      this.#open.delete(item);
    },
  };

  /** What UDP ports use of this reactor: the socket host, and name resolution for multicast groups. */
  readonly #udpHost = {
    ...this.#socketHost,
    resolve: (name: string): Deferred<string> => this.resolve(name),
  };

  constructor() {
    // `callLater(4, reactor.stop)`: every method works unbound.
    bindAllMethods(this);
    this.#events.add('during', 'startup', () => this.#reallyStartRunning(), []);
    this.#events.add('during', 'shutdown', () => this.crash(), []);
    this.#events.add('during', 'shutdown', () => this.#disconnectAll(), []);
  }

  /** True from `during startup` to `during shutdown`. */
  get running(): boolean {
    return this.#running;
  }

  /** The signal that stopped the reactor, if one did. */
  get exitSignal(): NodeJS.Signals | undefined {
    return this.#exitSignal;
  }

  // IReactorTime

  /**
   * The current time in seconds: monotonic (it never goes back), counted
   * from the Unix epoch at the time the process started.
   */
  seconds(): number {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  /**
   * Calls `f(...args)` `delay` seconds from now. What `f` throws is logged.
   *
   * @param delay - Seconds (float, at least 0).
   * @throws RangeError if `delay` is negative or NaN.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#calls.schedule(delay, f, args);
  }

  /** The calls not yet run or cancelled, earliest first. */
  getDelayedCalls(): DelayedCall[] {
    return this.#calls.pending();
  }

  // IReactorCore

  /**
   * Looks up the IPv4 address of `name`; an IP address is returned as it is.
   *
   * @remarks
   * Cancellation: the lookup itself cannot be stopped; cancelling fails the
   * Deferred with `CancelledError` and ignores the answer.
   *
   * @param name - A host name or an IP address.
   * @param timeout - Seconds before failing with {@link DNSLookupError}. Default 60.
   * @returns A Deferred of the address, or failing with {@link DNSLookupError}.
   */
  resolve(name: string, timeout = 60): Deferred<string> {
    if (name === '') return succeed('0.0.0.0');
    if (isIP(name) !== 0) return succeed(name);
    let settled = false;
    const d = new Deferred<string>(() => {
      settled = true;
      timer.cancel();
    });
    const timer = this.callLater(timeout, () => {
      settled = true;
      d.errback(
        new DNSLookupError(`DNS lookup of ${name} timed out after ${timeout} seconds`, {
          hostname: name,
        }),
      );
    });
    lookup(name, { family: 4 }, (error, address) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (error === null) d.callback(address);
      else
        d.errback(
          new DNSLookupError(`DNS lookup of ${name} failed: ${error.message}`, {
            hostname: name,
            cause: error,
          }),
        );
    });
    return d;
  }

  /**
   * Looks up every address of `name` (IPv4 and IPv6), in the order the
   * system resolver prefers them.
   *
   * @remarks
   * Uses `dns.lookup` with `{ all: true }` (the system's `getaddrinfo`, as
   * `/etc/hosts` and the platform's resolver see it). An IP address resolves
   * to itself without a lookup. The addresses carry port 0.
   *
   * Cancellation: the lookup itself cannot be stopped; cancelling fails the
   * Deferred with `CancelledError` and ignores the answer.
   *
   * @param name - A host name or an IP address.
   * @returns A Deferred of the addresses, or failing with
   *   {@link DNSLookupError}.
   * @see Twisted: twisted.internet._resolver.GAIResolver
   */
  resolveHostName(name: string): Deferred<Array<IPv4Address | IPv6Address>> {
    return lookupAll(name);
  }

  /**
   * Fires the `startup` triggers, then keeps the process alive until the
   * reactor is stopped.
   *
   * @param options - `installSignalHandlers` (default true): SIGINT and
   *   SIGTERM stop the reactor gracefully; a second one exits at once.
   * @returns A promise that settles once the `shutdown` triggers have run.
   * @throws {@link ReactorAlreadyRunning} if it is running;
   *   {@link ReactorNotRestartable} if it was stopped before.
   */
  run(options: RunOptions = {}): Promise<void> {
    if (this.#started) throw new ReactorAlreadyRunning();
    if (this.#startedBefore) throw new ReactorNotRestartable();
    this.#started = true;
    this.#halted = false;
    this.#stopped = false;
    this.#installSignalHandlers = options.installSignalHandlers ?? true;
    // Nothing else may keep the loop alive while the reactor runs.
    this.#keepAlive = setInterval(() => undefined, MAX_TIMER_MS);
    const finished = new Promise<void>((resolve) => {
      this.#finishRun = resolve;
    });
    this.#rearm();
    this.fireSystemEvent('startup');
    return finished;
  }

  /**
   * Stops the reactor: the `shutdown` triggers run on the next turn of the
   * loop, then `run()`'s promise settles.
   *
   * @throws {@link ReactorNotRunning} if the reactor is not running.
   */
  stop(): void {
    if (this.#stopped) throw new ReactorNotRunning();
    this.#stopped = true;
    this.#startedBefore = true;
    setImmediate(() => this.fireSystemEvent('shutdown'));
  }

  /**
   * Stops at once, without firing system events: `run()`'s promise settles.
   * The reactor may be run again afterwards unless `stop()` was called.
   */
  crash(): void {
    this.#started = false;
    this.#running = false;
    this.#halted = true;
    this.#disarm();
    this.#uninstallSignalHandlers();
    if (this.#keepAlive !== null) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = null;
    }
    this.#events.add('during', 'startup', () => this.#reallyStartRunning(), []);
    const finish = this.#finishRun;
    this.#finishRun = null;
    finish?.();
  }

  fireSystemEvent(eventType: SystemEventType): void {
    this.#events.fire(eventType);
  }

  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID {
    return this.#events.add(phase, eventType, f, args);
  }

  removeSystemEventTrigger(triggerID: SystemEventTriggerID): void {
    this.#events.remove(triggerID);
  }

  callWhenRunning<A extends unknown[]>(
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID | undefined {
    if (this.#running) {
      f(...args);
      return undefined;
    }
    return this.addSystemEventTrigger('after', 'startup', f, ...args);
  }

  // IReactorTCP

  /**
   * Listens for TCP connections on `port` and serves each with a protocol
   * from `factory`.
   *
   * @remarks
   * The socket is bound before this returns: for port 0, `getHost().port`
   * is the port chosen. `interface` defaults to all IPv4 interfaces; give
   * `'::'` for IPv6 (and IPv4), or a single address such as `'127.0.0.1'`.
   *
   * @param port - The port number, or 0 for any free port.
   * @param factory - Builds a protocol per connection.
   * @param options - `backlog` (default 50) and `interface`.
   * @returns The listening port.
   * @throws {@link torsion/protocol!CannotListenError | CannotListenError} if the address is in use, not local, or
   *   not permitted; `InvalidAddressError` if `interface` is not an IP address.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: ListenTCPOptions,
  ): IListeningPort<IPAddress> {
    const listening = new TCPPort(this.#socketHost, port, factory, options);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port` with a protocol from `factory`, reporting to
   * its `startedConnecting`, `clientConnectionFailed` and
   * `clientConnectionLost` when it has them.
   *
   * @remarks
   * A host name is resolved to an IPv4 address, as Twisted's connectTCP
   * does; an IPv6 literal connects over IPv6 (for both families from a name,
   * use a `HostnameEndpoint`).
   *
   * @param options - `timeout` in seconds (default 30) and `bindAddress`.
   * @returns The connector, already connecting.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IProtocolFactory,
    options: ConnectTCPOptions = {},
  ): IConnector<IPAddress> {
    const connector = new Connector(
      this.#socketHost,
      tcpTarget(host, port, options),
      factory,
      options.timeout ?? 30,
    );
    connector.connect();
    return connector;
  }

  // IReactorSSL

  /**
   * Listens for TLS connections on `port` and serves each with a protocol
   * from `factory`, once its TLS handshake has completed.
   *
   * @remarks
   * As {@link NodeReactor.listenTCP}, and the socket is bound before this
   * returns. `contextFactory` holds Node's TLS server settings: at least
   * `key` and `cert` (PEM), and whatever else `tls.createServer` takes
   * (`ca` and `requestCert` to ask clients for certificates, `ALPNProtocols`,
   * `minVersion`, …). The protocol's transport is an `ISSLTransport`.
   *
   * A client whose handshake fails is logged (at level info) and dropped;
   * no protocol is built for it.
   *
   * @param port - The port number, or 0 for any free port.
   * @param factory - Builds a protocol per connection.
   * @param contextFactory - The TLS settings, as `tls.createServer` takes them.
   * @param options - `backlog` (default 50) and `interface`.
   * @returns The listening port.
   * @throws {@link torsion/protocol!CannotListenError | CannotListenError} if the address cannot be bound; Node's
   *   error if the key or certificate is unusable.
   * @see Twisted: twisted.internet.interfaces.IReactorSSL.listenSSL
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: TlsOptions,
    options: ListenTCPOptions = {},
  ): IListeningPort<IPAddress> {
    const listening = new TCPPort(this.#socketHost, port, factory, {
      ...options,
      tls: contextFactory,
    });
    listening.startListening();
    return listening;
  }

  /**
   * Connects to `host:port` with TLS, with a protocol from `factory`, built
   * once the TLS handshake has completed.
   *
   * @remarks
   * As {@link NodeReactor.connectTCP}, then a TLS handshake with the
   * settings of `contextFactory` (Node's `tls.connect` options: `ca` to
   * trust, `servername`, `rejectUnauthorized`, `key` and `cert` for a client
   * certificate, `ALPNProtocols`, …). By default Node verifies the server's
   * certificate against its bundled roots and the host name. A handshake
   * that fails (an untrusted certificate, a host name mismatch, a peer that
   * hangs up) fails the attempt with `SSLError`, reported to the factory's
   * `clientConnectionFailed`. The timeout covers the handshake too. The
   * protocol's transport is an `ISSLTransport`.
   *
   * @param contextFactory - The TLS settings, as `tls.connect` takes them.
   * @param options - `timeout` in seconds (default 30) and `bindAddress`.
   * @returns The connector, already connecting.
   * @throws Node's error if the TLS settings are unusable (a bad key or CA).
   * @see Twisted: twisted.internet.interfaces.IReactorSSL.connectSSL
   */
  connectSSL(
    host: string,
    port: number,
    factory: IProtocolFactory,
    contextFactory: ConnectionOptions,
    options: ConnectTCPOptions = {},
  ): IConnector<IPAddress> {
    const connector = new Connector(
      this.#socketHost,
      tlsTarget(host, port, contextFactory, options),
      factory,
      options.timeout ?? 30,
    );
    connector.connect();
    return connector;
  }

  // IReactorUNIX

  /**
   * Listens on the UNIX socket `address` (a file path).
   *
   * @remarks
   * A socket file left by a dead process is replaced (see `wantPID`).
   *
   * @param options - `backlog` (default 50), `mode` (default 0o666), `wantPID`
   *   (hold `<address>.lock`, default false).
   * @throws {@link torsion/protocol!CannotListenError | CannotListenError} if the path cannot be bound.
   */
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    options?: ListenUNIXOptions,
  ): IListeningPort<UNIXAddress> {
    const listening = new UNIXPort(this.#socketHost, address, factory, options);
    listening.startListening();
    return listening;
  }

  /**
   * Connects to the UNIX socket `address`.
   *
   * @param options - `timeout` in seconds (default 30), `checkPID`.
   * @throws `BadFileError` with `checkPID` if the server's lock is not held.
   */
  connectUNIX(
    address: string,
    factory: IProtocolFactory,
    options?: ConnectUNIXOptions,
  ): IConnector<UNIXAddress> {
    return connectUNIX(this.#socketHost, address, factory, options);
  }

  // IReactorUDP

  /**
   * Binds a UDP socket to `port` and hands each datagram to `protocol`'s
   * `datagramReceived(data, [host, port])`.
   *
   * @remarks
   * The socket is bound, and the protocol started (`startProtocol`), before
   * this returns: for port 0, `getHost().port` is the port chosen. (dgram
   * binds through its address lookup, which this port answers at once for
   * the IP address it is given; no private API is involved.)
   * `interface` defaults to all IPv4 interfaces; `'::'` makes an IPv6 port
   * (which also receives IPv4 datagrams, from `::ffff:`-mapped senders).
   * A datagram longer than `maxPacketSize` (default 8192) is truncated to
   * it, as Twisted's `recvfrom(maxPacketSize)` does. The port is closed when
   * the reactor shuts down.
   *
   * @param port - The port number, or 0 for any free port.
   * @param protocol - Gets the datagrams; `makeConnection` is called with the port.
   * @param options - `interface` (an IP address) and `maxPacketSize`.
   * @returns The port, which is also the protocol's transport.
   * @throws {@link torsion/protocol!CannotListenError | CannotListenError} if the address is in use, not
   *   local, or not permitted; `InvalidAddressError` if `interface` is not an
   *   IP address or `port` not a port number.
   * @see Twisted: twisted.internet.interfaces.IReactorUDP.listenUDP
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions = {},
  ): IListeningPort<IPAddress> & IUDPTransport {
    const { interface: iface, maxPacketSize } = options;
    const listening = new UDPPort(this.#udpHost, port, protocol, {
      ...(iface === undefined ? {} : { interface: iface }),
      ...(maxPacketSize === undefined ? {} : { maxPacketSize }),
    });
    listening.startListening();
    return listening;
  }

  /**
   * Binds a UDP socket for IP multicast: as {@link NodeReactor.listenUDP},
   * and the port has `joinGroup`, `leaveGroup`, `setTTL`,
   * `setLoopbackMode`, `setOutgoingInterface` and their getters.
   *
   * @param options - `interface`, `maxPacketSize`, and `listenMultiple`
   *   (`SO_REUSEADDR`: several sockets may bind the port, default false).
   * @returns The port, which is also the protocol's transport.
   * @throws As `listenUDP`.
   * @see Twisted: twisted.internet.interfaces.IReactorMulticast.listenMulticast
   */
  listenMulticast(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenMulticastOptions = {},
  ): IListeningPort<IPAddress> & IMulticastTransport {
    const listening = new UDPPort(this.#udpHost, port, protocol, {
      ...options,
      listenMultiple: options.listenMultiple ?? false,
    });
    listening.startListening();
    return listening;
  }

  // IReactorProcess

  /**
   * Starts a child process and connects it to `processProtocol`.
   *
   * @remarks
   * No shell is involved: `executable` is run with `args` as a vector, so
   * nothing in them is interpreted (pass `'sh', ['sh', '-c', line]` when a
   * shell is the point). A name without a slash is looked up in the `PATH`
   * of `env` when it has one, else in this process's `PATH`. `args[0]` is
   * the program's name as it sees it (its `argv[0]`, Node's `argv0`), as in
   * Twisted: `spawnProcess(p, '/bin/ls', ['ls', '-l'])`; an empty `args`
   * gives it the executable's name.
   *
   * `processProtocol.makeConnection` (so `connectionMade`) is called before
   * this returns; everything else comes on later turns: output by
   * `childDataReceived(fd, data)`, each descriptor's closing by
   * `childConnectionLost(fd)`, `processExited` when the process has exited,
   * and `processEnded` last, once it has exited AND every descriptor is
   * closed (a grandchild that keeps the output open delays it). The reason
   * is a {@link torsion/protocol!ProcessDone | ProcessDone} for exit code 0,
   * else a {@link torsion/protocol!ProcessTerminated | ProcessTerminated}
   * with `exitCode` or `signal`. A callback that throws is logged.
   *
   * The transport: `write` goes to standard input (dropped once it is
   * closed, as Twisted does), with backpressure: a producer registered with
   * `registerProducer` is paused while the pipe's buffer is full; `closeStdin`
   * ends it after what was written; `loseConnection` closes standard input,
   * error and output; `pauseProducing` stops reading the child's output;
   * `signalProcess('TERM' | 'KILL' | 'INT' | 'HUP' | …)` throws
   * `ProcessExitedAlready` once the process has exited, when `pid` is
   * `undefined`.
   *
   * A process that cannot be started (no such executable, not executable,
   * no such `path`, a uid that cannot be taken) is not an exception here:
   * as with Twisted's forked child whose `exec` fails, the protocol is
   * connected, its descriptors close, and it gets `processExited` and
   * `processEnded` with a `ProcessTerminated` of exit code 1 whose `cause`
   * is Node's error (`ENOENT`, `EACCES`, `EPERM`, …). Twisted's
   * `posix_spawnp` path raises some of these at once; Node reports them
   * only after the call, so they all take this one road.
   *
   * Processes still running when the reactor shuts down are not killed (as
   * in Twisted), nor waited for: they stop keeping the event loop alive, so
   * the program can exit, and live on; signal them from a `'before'`
   * `'shutdown'` trigger to stop them.
   *
   * Differences from Twisted: `env` defaults to an empty environment, as
   * Twisted's does; pass `{ ...process.env }` to hand down this process's.
   * `usePTY` is not supported. A child descriptor missing from `childFDs`
   * is closed for descriptors above 2 and opened on `/dev/null` for 0-2
   * (Node's `'ignore'`), where Twisted closes them all.
   *
   * @param processProtocol - Receives the process's events.
   * @param executable - The program to run: a path, or a name looked up in `PATH`.
   * @param args - The program's arguments, its name first.
   * @param options - `env` (default empty), `path` (the working directory),
   *   `uid`, `gid`, `childFDs` (default `{ 0: 'w', 1: 'r', 2: 'r' }`: `'w'`
   *   the parent writes, `'r'` the parent reads, a number passes one of this
   *   process's descriptors).
   * @returns The process's transport (also `processProtocol.transport`).
   * @throws TypeError for malformed arguments; Error for `usePTY: true`.
   * @see Twisted: twisted.internet.interfaces.IReactorProcess.spawnProcess
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[],
    options: SpawnProcessOptions = {},
  ): IProcessTransport {
    return new Process(this, processProtocol, executable, args, options);
  }

  /** Closes every open port and connection: the reactor is shutting down. */
  #disconnectAll(): void {
    const reason = new ConnectionLost('the reactor shut down');
    for (const item of [...this.#open]) {
      try {
        item.disconnectNow(reason);
      } catch (error) {
        log.failure('Error closing {item} at shutdown', error, { item: String(item) });
      }
    }
  }

  #reallyStartRunning(): void {
    this.#running = true;
    if (this.#installSignalHandlers) this.#installSignals();
  }

  #installSignals(): void {
    for (const [signal, status] of STOP_SIGNALS) {
      const handler = (): void => {
        if (this.#stopped) {
          log.warn('Received {signal} again while shutting down; exiting now.', { signal });
          process.exit(status);
        }
        log.info('Received {signal}, shutting down.', { signal });
        this.#exitSignal = signal;
        this.stop();
      };
      process.on(signal, handler);
      this.#signalHandlers.push([signal, handler]);
    }
  }

  #uninstallSignalHandlers(): void {
    for (const [signal, handler] of this.#signalHandlers) process.removeListener(signal, handler);
    this.#signalHandlers = [];
  }

  // Timed calls

  /** Arms the Node timer for the earliest call, when that is sooner than the armed one. */
  #rearm(): void {
    const due = this.#calls.earliestTime();
    if (due === undefined || this.#halted) {
      this.#disarm();
      return;
    }
    // A timer armed for an earlier time stays: it fires, finds nothing due, re-arms.
    if (due >= this.#timerDue) return;
    this.#disarm();
    const wait = (due - this.seconds()) * 1000;
    this.#timerDue = due;
    if (wait <= 0) this.#immediate = setImmediate(() => this.#onTimer());
    else this.#timeout = setTimeout(() => this.#onTimer(), Math.min(Math.ceil(wait), MAX_TIMER_MS));
  }

  #disarm(): void {
    if (this.#timeout !== null) clearTimeout(this.#timeout);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timeout = null;
    this.#immediate = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }

  #onTimer(): void {
    this.#timeout = null;
    this.#immediate = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#runUntilCurrent();
    this.#rearm();
  }

  /**
   * Runs the calls due now, in order. Calls scheduled meanwhile wait for a
   * later turn, so a call that reschedules itself with delay 0 cannot starve
   * I/O.
   */
  #runUntilCurrent(): void {
    const now = this.seconds();
    const before = this.#calls.nextSequence();
    for (let call = this.#calls.takeDue(now, before); call !== undefined; ) {
      try {
        call.run();
      } catch (error) {
        log.failure('while handling timed call {call}', error, { call: String(call) });
      }
      call = this.#calls.takeDue(now, before);
    }
  }
}
