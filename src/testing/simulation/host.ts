// A simulated host: the reactor that code running on it is given (time on
// the network's one virtual clock, the life cycle, TCP listening and
// connecting, host-name resolution inside the simulation), and the faults
// that strike a whole host (crash, restart).
// Tests: test/unit/testing/simulation-core.test.ts, test/unit/testing/simulation-existing-code.test.ts,
// test/unit/testing/simulation-udp.test.ts

import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { bindMethods } from '../../internet/_bind.js';
import { SystemEvents } from '../../internet/_system-events.js';
import { IPv4Address, type UNIXAddress } from '../../internet/address.js';
import { Deferred, fail, succeed } from '../../internet/defer.js';
import {
  CannotListenError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  InvalidAddressError,
  NotConnectingError,
  ReactorNotRunning,
  TimeoutError,
  UserError,
} from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  ConnectTCPOptions,
  IConnector,
  IDatagramProtocol,
  IHostnameResolver,
  IIPAddress,
  IListeningPort,
  IMulticastTransport,
  IProtocolFactory,
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  ListenTCPOptions,
  ListenUDPOptions,
  SystemEventPhase,
  SystemEventTriggerID,
  SystemEventType,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { type CallOwner, type EventQueue, SimulatedDelayedCall, type Task } from './_events.js';
import { buildProtocolFor, NullProtocol, type SimulatedTransport } from './transport.js';
import { isIPv4, SimulatedUDPPort, type UDPNetwork } from './udp.js';

const log = new Logger('torsion.testing.simulation');

/**
 * What a host needs of its network.
 *
 * @internal
 */
export interface HostNetwork extends UDPNetwork {
  readonly queue: EventQueue;
  now(): number;
  soon(host: SimulatedHost, fn: () => void): Task;
  later(host: SimulatedHost, delay: number, fn: () => void): Task;
  /** The address a connection to `host` goes to: itself if an IP, a host's if a host name. */
  addressOf(host: string): string | undefined;
  /** Sends a SYN for the attempt. */
  sendSyn(attempt: ConnectAttempt): void;
  /** Makes the two transports of a new connection; the server's is on `server`. */
  accept(attempt: ConnectAttempt, server: SimulatedHost, factory: IProtocolFactory): void;
  /** Sends a reset answering a SYN nobody listens for. */
  refuse(attempt: ConnectAttempt, from: SimulatedHost): void;
  record(event: string, fields: Record<string, string | number>): void;
  callbackFailed(error: unknown): void;
}

/**
 * One connection attempt (one SYN and its retransmissions).
 *
 * @internal
 */
export interface ConnectAttempt {
  alive: boolean;
  readonly connector: SimulatedConnector;
  readonly host: SimulatedHost;
  readonly localAddress: string;
  readonly localPort: number;
  readonly address: string;
  readonly port: number;
}

/** Options of {@link SimulatedNetwork.addHost}. */
export interface SimulatedHostOptions {
  /** Its IPv4 addresses; the first is the one it connects from. @defaultValue one of 10.0.0.0/8, in order of creation */
  addresses?: readonly string[] | undefined;
  /**
   * Run when the host starts and again after every `restart()`: where a
   * server listens, since a restarted host has lost its listeners.
   */
  boot?: ((host: SimulatedHost) => void) | undefined;
}

/**
 * A host of a {@link SimulatedNetwork}: the reactor for the code that runs
 * on it.
 *
 * @remarks
 * It is an `IReactorTime` (every host shares the network's one virtual
 * clock; calls run when the network is advanced), an `IReactorCore` (the
 * host is running from the moment it is added, so `callWhenRunning` calls at
 * once; `stop()` fires the shutdown triggers, then closes its listeners and
 * connections and stops running its delayed calls; `crash()` is the fault
 * described below), an `IReactorTCP` (`listenTCP`, `connectTCP` with the
 * usual port and connector behaviour: a connection to a port nothing listens
 * on is refused, one to a crashed, partitioned or unknown address times out
 * after `timeout` seconds, 30 by default) and an `IHostnameResolver` (the
 * names of the network's hosts resolve to their addresses), so
 * `serverFromString(host, 'tcp:80')` and `clientFromString(host,
 * 'tcp:server:80')` work on it. It is an `IReactorUDP` too: `listenUDP`
 * gives a {@link SimulatedUDPPort} whose datagrams cross the same links.
 * UNIX sockets, TLS and UDP multicast are not simulated: those methods
 * throw.
 *
 * @since 0.1.0
 */
export class SimulatedHost
  implements
    IReactorTime,
    IReactorCore,
    IReactorTCP,
    IReactorUDP,
    IReactorUNIX,
    IReactorSSL,
    IHostnameResolver
{
  /** Its name, unique in the network. */
  readonly name: string;
  /** Its addresses; the first is the one it connects from. */
  readonly addresses: readonly string[];
  /** @internal Bumped by every crash: what belonged to the old incarnation is dead. */
  incarnation = 0;
  readonly #network: HostNetwork;
  readonly #owner: CallOwner;
  readonly #calls = new Set<SimulatedDelayedCall>();
  readonly #listeners = new Map<number, SimulatedPort>();
  readonly #udpPorts = new Map<number, SimulatedUDPPort>();
  #nextUDPPort = 49152;
  readonly #boot: ((host: SimulatedHost) => void)[] = [];
  #events = new SystemEvents();
  #up = true;
  #running = true;
  #stopping = false;
  #stopped: (() => void)[] = [];
  #nextPort = 49152;
  #nextListenPort = 30000;
  /** @internal Transports of this incarnation not yet closed, for stop(). */
  readonly transports = new Set<SimulatedTransport>();

  /** @internal Made by SimulatedNetwork.addHost. */
  constructor(network: HostNetwork, name: string, addresses: readonly string[]) {
    this.#network = network;
    this.name = name;
    this.addresses = addresses;
    this.#owner = {
      queue: network.queue,
      seconds: () => network.now(),
      forget: (call) => {
        this.#calls.delete(call);
      },
      runCall: (call) => this.#runCall(call),
    };
    bindMethods(this, ['stop', 'crash', 'restart', 'callLater', 'seconds']);
  }

  /** The address it connects from (its first). */
  get address(): string {
    return this.addresses[0] as string;
  }

  /** Whether the host is up (not crashed). */
  get up(): boolean {
    return this.#up;
  }

  /** Whether the host runs its calls: up and not stopped. */
  get running(): boolean {
    return this.#running;
  }

  /** `SimulatedHost(server 10.0.0.2)`. */
  toString(): string {
    return `SimulatedHost(${this.name} ${this.addresses.join(',')})`;
  }

  // -- IReactorTime ----------------------------------------------------------

  /** The network's virtual time, in seconds. */
  seconds(): number {
    return this.#network.now();
  }

  /**
   * Schedules `f(...args)` `delay` virtual seconds from now. A throw is
   * logged (and counted in the network's `errors`), as a reactor would.
   *
   * @throws RangeError if `delay` is negative or NaN.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SimulatedDelayedCall {
    if (typeof delay !== 'number') {
      throw new TypeError(`delay must be a number of seconds, got ${typeof delay}`);
    }
    if (!(delay >= 0)) throw new RangeError(`delay must be at least 0 seconds, got ${delay}`);
    if (typeof f !== 'function') throw new TypeError(`callLater needs a function, got ${typeof f}`);
    const call = new SimulatedDelayedCall(this.#owner, f, args);
    this.#network.queue.push(call, this.#network.now() + delay);
    this.#calls.add(call);
    return call;
  }

  /** Its calls not yet run or cancelled, earliest first. */
  getDelayedCalls(): SimulatedDelayedCall[] {
    return [...this.#calls].sort((a, b) => a.time - b.time || a.seq - b.seq);
  }

  // -- IReactorCore ----------------------------------------------------------

  /**
   * Resolves one of the network's host names (or an IPv4 address) to an
   * address.
   */
  resolve(name: string): Deferred<string> {
    const address = this.#network.addressOf(name);
    return address === undefined
      ? fail(new DNSLookupError(`no simulated host is called ${name}`, { hostname: name }))
      : succeed(address);
  }

  /** Resolves a host name to the host's addresses. */
  resolveHostName(name: string): Deferred<IIPAddress[]> {
    const host = this.#network.addressOf(name);
    if (host === undefined) {
      return fail(new DNSLookupError(`no simulated host is called ${name}`, { hostname: name }));
    }
    return succeed([new IPv4Address('TCP', host, 0)]);
  }

  /**
   * A host runs from the moment it is added; this returns a promise that
   * settles when it stops (or crashes). The network, not this method, moves
   * time.
   */
  run(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#stopped.push(resolve));
  }

  /**
   * Stops the host as a reactor stops: fires the shutdown triggers, then
   * closes its listeners, UDP ports and connections (a FIN to each peer)
   * and runs no more of its delayed calls.
   *
   * @throws ReactorNotRunning if it is not running.
   */
  stop(): void {
    if (!this.#running || this.#stopping) throw new ReactorNotRunning();
    this.#stopping = true;
    this.#network.record('stop', { host: this.name });
    this.#events.add('during', 'shutdown', () => this.#shutdown(), []);
    this.#events.fire('shutdown');
  }

  /**
   * A fault: the host dies at once. Its connections vanish without a FIN or
   * a reset (peers see nothing until they write, then their segments go
   * unanswered until they time out, or get a reset once the host is back),
   * its listeners, UDP ports and delayed calls are gone (datagrams to it
   * are dropped), and no callback of its
   * protocols runs. `restart()` brings it back, empty.
   *
   * @throws Error if it is down already.
   */
  crash(): void {
    if (!this.#up) throw new Error(`${String(this)} has crashed already`);
    this.#network.record('crash', { host: this.name });
    this.#up = false;
    this.#running = false;
    this.incarnation++;
    for (const call of this.#calls) call.drop();
    this.#calls.clear();
    for (const port of this.#listeners.values()) port.vanish();
    this.#listeners.clear();
    for (const port of this.#udpPorts.values()) port.vanish();
    this.#udpPorts.clear();
    this.transports.clear();
    this.#events = new SystemEvents();
    this.#stopping = false;
    this.#settleRun();
  }

  /**
   * Brings a crashed (or stopped) host back: running, with no listeners or
   * connections, and runs its boot functions again.
   *
   * @throws Error if it is up and running.
   */
  restart(): void {
    if (this.#up && this.#running) throw new Error(`${String(this)} is running`);
    if (this.#up) this.incarnation++;
    this.#network.record('restart', { host: this.name });
    this.#up = true;
    this.#running = true;
    this.#stopping = false;
    this.#listeners.clear();
    for (const port of this.#udpPorts.values()) port.vanish();
    this.#udpPorts.clear();
    this.transports.clear();
    this.#events = new SystemEvents();
    this.#runBoot();
  }

  /**
   * Adds a function run now and after every restart (where a server
   * listens again).
   */
  onBoot(fn: (host: SimulatedHost) => void): void {
    this.#boot.push(fn);
    if (this.#running) this.#callBoot(fn);
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

  /** Calls `f` at once: a simulated host is running from the start. */
  callWhenRunning<A extends unknown[]>(
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID | undefined {
    if (this.#running) {
      f(...args);
      return undefined;
    }
    return this.#events.add('after', 'startup', f, args);
  }

  // -- IReactorTCP -----------------------------------------------------------

  /**
   * Listens on `port` of this host (0 picks a free port).
   *
   * @throws CannotListenError if the port is taken, or the interface is not
   *   one of the host's addresses; Error if the host is down.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): SimulatedPort {
    this.#checkUp();
    const iface = options.interface ?? '0.0.0.0';
    if (iface !== '0.0.0.0' && iface !== '' && !this.addresses.includes(iface)) {
      throw new CannotListenError(iface, port, `${iface} is not an address of ${this.name}`);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CannotListenError(iface, port, 'invalid port');
    }
    let number = port;
    if (number === 0) {
      while (this.#listeners.has(this.#nextListenPort)) this.#nextListenPort++;
      number = this.#nextListenPort++;
    }
    const listener = new SimulatedPort(this, this.#network, number, iface, factory);
    listener.startListening();
    return listener;
  }

  /**
   * Connects to `host:port` inside the simulation (`host`: an address, or
   * a host's name).
   */
  connectTCP(
    host: string,
    port: number,
    factory: IProtocolFactory,
    options: ConnectTCPOptions = {},
  ): SimulatedConnector {
    this.#checkUp();
    const connector = new SimulatedConnector(
      this,
      this.#network,
      host,
      port,
      factory,
      options.timeout ?? 30,
    );
    connector.connect();
    return connector;
  }

  // -- IReactorUDP -----------------------------------------------------------

  /**
   * Binds a simulated UDP port on this host and starts `protocol` on it
   * (port 0 picks a free one from 49152 up). The datagrams it sends cross
   * the network's links; see {@link SimulatedUDPPort}.
   *
   * @param options - `interface`: one of the host's addresses, `127.0.0.1`,
   *   or `0.0.0.0` (the default, every address); `maxPacketSize`: longer
   *   datagrams are truncated on receipt (8192 by default).
   * @throws CannotListenError if the port is taken or the interface is not
   *   the host's; InvalidAddressError for an interface that is not an IPv4
   *   address or a port out of range; RangeError for a bad `maxPacketSize`;
   *   Error if the host is down.
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions = {},
  ): SimulatedUDPPort {
    this.#checkUp();
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidAddressError(port, 'a port must be an integer from 0 to 65535');
    }
    const given = options.interface ?? '';
    const iface = given === '' ? '0.0.0.0' : given;
    if (!isIPv4(iface)) {
      throw new InvalidAddressError(
        given,
        'listenUDP on a simulated host needs an IPv4 address as its interface',
      );
    }
    if (iface !== '0.0.0.0' && iface !== '127.0.0.1' && !this.addresses.includes(iface)) {
      throw new CannotListenError(iface, port, 'EADDRNOTAVAIL');
    }
    const maxPacketSize = options.maxPacketSize ?? 8192;
    if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1) {
      throw new RangeError(
        `listenUDP: maxPacketSize must be a positive integer, got ${String(maxPacketSize)}`,
      );
    }
    let number = port;
    if (number === 0) {
      for (let tries = 0; this.#udpPorts.has(this.#nextUDPPort); tries++) {
        if (tries > 16384) throw new CannotListenError(iface, 0, 'no free ephemeral UDP port');
        this.#nextUDPPort = this.#nextUDPPort >= 65535 ? 49152 : this.#nextUDPPort + 1;
      }
      number = this.#nextUDPPort;
      this.#nextUDPPort = number >= 65535 ? 49152 : number + 1;
    }
    const udp = new SimulatedUDPPort(this, this.#network, number, iface, protocol, maxPacketSize);
    udp.startListening();
    return udp;
  }

  /** Not simulated. @throws Error always. */
  listenMulticast(): IListeningPort<IPv4Address> & IMulticastTransport {
    throw new Error('UDP multicast is not simulated: use listenUDP on a simulated host');
  }

  /** Not simulated. @throws Error always. */
  listenUNIX(): IListeningPort<UNIXAddress> {
    throw new Error('UNIX sockets are not simulated: use listenTCP on a simulated host');
  }

  /** Not simulated. @throws Error always. */
  connectUNIX(): IConnector<UNIXAddress> {
    throw new Error('UNIX sockets are not simulated: use connectTCP on a simulated host');
  }

  /** Not simulated. @throws Error always. */
  listenSSL(
    _port: number,
    _factory: IProtocolFactory,
    _contextFactory: TlsOptions,
  ): IListeningPort<IPv4Address> {
    throw new Error('TLS is not simulated: use listenTCP on a simulated host');
  }

  /** Not simulated. @throws Error always. */
  connectSSL(
    _host: string,
    _port: number,
    _factory: IProtocolFactory,
    _contextFactory: ConnectionOptions,
  ): IConnector<IPv4Address> {
    throw new Error('TLS is not simulated: use connectTCP on a simulated host');
  }

  // -- Internal --------------------------------------------------------------

  /** @internal The listener on `port` for a connection to `address`, if any. */
  listenerFor(address: string, port: number): SimulatedPort | undefined {
    const listener = this.#listeners.get(port);
    if (listener === undefined) return undefined;
    return listener.iface === '0.0.0.0' || listener.iface === '' || listener.iface === address
      ? listener
      : undefined;
  }

  /** @internal */
  register(port: SimulatedPort): void {
    const existing = this.#listeners.get(port.port);
    if (existing !== undefined && existing !== port) {
      throw new CannotListenError(port.iface, port.port, 'address already in use');
    }
    this.#listeners.set(port.port, port);
  }

  /** @internal */
  unregister(port: SimulatedPort): void {
    if (this.#listeners.get(port.port) === port) this.#listeners.delete(port.port);
  }

  /** @internal The UDP port a datagram to `address:port` goes to, if any. */
  udpPortFor(address: string, port: number): SimulatedUDPPort | undefined {
    const udp = this.#udpPorts.get(port);
    if (udp === undefined || !udp.listening) return undefined;
    return udp.iface === '0.0.0.0' || udp.iface === address ? udp : undefined;
  }

  /** @internal */
  registerUDP(udp: SimulatedUDPPort): void {
    const existing = this.#udpPorts.get(udp.port);
    if (existing !== undefined && existing !== udp) {
      throw new CannotListenError(udp.iface, udp.port, 'EADDRINUSE');
    }
    this.#udpPorts.set(udp.port, udp);
  }

  /** @internal */
  unregisterUDP(udp: SimulatedUDPPort): void {
    if (this.#udpPorts.get(udp.port) === udp) this.#udpPorts.delete(udp.port);
  }

  /** @internal A local port for a new connection. */
  ephemeralPort(): number {
    const port = this.#nextPort++;
    if (this.#nextPort > 65535) this.#nextPort = 49152;
    return port;
  }

  /** @internal Runs the boot functions (when added to a network). */
  boot(): void {
    this.#runBoot();
  }

  #runBoot(): void {
    for (const fn of this.#boot) this.#callBoot(fn);
  }

  #callBoot(fn: (host: SimulatedHost) => void): void {
    try {
      fn(this);
    } catch (error) {
      this.#network.callbackFailed(error);
      log.failure('A boot function of {host} failed', error, { host: this.name });
    }
  }

  #runCall(call: SimulatedDelayedCall): void {
    if (!this.#running) return;
    try {
      Reflect.apply(call.func, undefined, call.args);
    } catch (error) {
      this.#network.callbackFailed(error);
      log.failure('Unhandled error in a delayed call on {host}', error, { host: this.name });
    }
  }

  #shutdown(): void {
    for (const port of [...this.#listeners.values()]) port.stopListening();
    for (const port of [...this.#udpPorts.values()]) port.stopListening();
    for (const transport of [...this.transports]) transport.loseConnection();
    this.#running = false;
    this.#stopping = false;
    for (const call of this.#calls) call.drop();
    this.#calls.clear();
    this.#settleRun();
  }

  #settleRun(): void {
    const waiting = this.#stopped;
    this.#stopped = [];
    for (const resolve of waiting) resolve();
  }

  #checkUp(): void {
    if (!this.#up) throw new Error(`${String(this)} has crashed: restart() it first`);
  }
}

/**
 * A listening port on a simulated host.
 *
 * @since 0.1.0
 */
export class SimulatedPort implements IListeningPort<IPv4Address> {
  /** The port number. */
  readonly port: number;
  /** The interface (address) it listens on; `0.0.0.0` for all. */
  readonly iface: string;
  /** The factory that builds the protocols of accepted connections. */
  readonly factory: IProtocolFactory;
  readonly #host: SimulatedHost;
  readonly #network: HostNetwork;
  #listening = false;

  /** @internal */
  constructor(
    host: SimulatedHost,
    network: HostNetwork,
    port: number,
    iface: string,
    factory: IProtocolFactory,
  ) {
    this.#host = host;
    this.#network = network;
    this.port = port;
    this.iface = iface;
    this.factory = factory;
    bindMethods(this, ['stopListening', 'startListening']);
  }

  /** Whether it accepts connections. */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Starts accepting (again).
   *
   * @throws CannotListenError if the port is taken.
   */
  startListening(): void {
    if (this.#listening) return;
    this.#host.register(this);
    this.#listening = true;
    this.#network.record('listen', { host: this.#host.name, port: this.port });
    this.factory.doStart();
  }

  /** Stops accepting; the Deferred fires in this instant of virtual time. */
  stopListening(): Deferred<void> {
    if (!this.#listening) return succeed(undefined);
    this.#listening = false;
    this.#host.unregister(this);
    this.#network.record('unlisten', { host: this.#host.name, port: this.port });
    const d = new Deferred<void>();
    this.#network.soon(this.#host, () => {
      try {
        this.factory.doStop();
      } finally {
        d.callback(undefined);
      }
    });
    return d;
  }

  /** @internal The host crashed. */
  vanish(): void {
    this.#listening = false;
  }

  /** `IPv4Address(TCP, iface, port)`. */
  getHost(): IPv4Address {
    return new IPv4Address('TCP', this.iface, this.port);
  }

  /** `<SimulatedPort server:80>`. */
  toString(): string {
    return `<SimulatedPort ${this.#host.name}:${this.port}>`;
  }
}

interface ClientFactoryHooks {
  startedConnecting?(connector: IConnector): void;
  clientConnectionFailed?(connector: IConnector, reason: Failure): void;
  clientConnectionLost?(connector: IConnector, reason: Failure): void;
}

/**
 * An outgoing connection attempt from a simulated host, and the connection
 * it makes, reporting to a ClientFactory as a real connector does.
 *
 * @since 0.1.0
 */
export class SimulatedConnector implements IConnector<IPv4Address> {
  readonly #host: SimulatedHost;
  readonly #network: HostNetwork;
  readonly #destination: IPv4Address;
  readonly #factory: IProtocolFactory & ClientFactoryHooks;
  readonly #timeout: number;
  #state: 'disconnected' | 'connecting' | 'connected' = 'disconnected';
  #factoryStarted = false;
  #attempt: ConnectAttempt | undefined;
  #timer: Task | undefined;
  #transport: SimulatedTransport | undefined;

  /** @internal */
  constructor(
    host: SimulatedHost,
    network: HostNetwork,
    destination: string,
    port: number,
    factory: IProtocolFactory,
    timeout: number,
  ) {
    this.#host = host;
    this.#network = network;
    this.#destination = new IPv4Address('TCP', destination, port);
    this.#factory = factory as IProtocolFactory & ClientFactoryHooks;
    this.#timeout = timeout;
    bindMethods(this, ['connect', 'stopConnecting', 'disconnect']);
  }

  /** `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): 'disconnected' | 'connecting' | 'connected' {
    return this.#state;
  }

  /** The transport of the connection it made, while connected. */
  get transport(): SimulatedTransport | undefined {
    return this.#transport;
  }

  connect(): void {
    if (this.#state !== 'disconnected') {
      throw new Error(`can't connect in this state (${this.#state})`);
    }
    if (!this.#factoryStarted) {
      this.#factory.doStart();
      this.#factoryStarted = true;
    }
    this.#state = 'connecting';
    const host = this.#host;
    const network = this.#network;
    const destination = this.#destination;
    const address = network.addressOf(destination.host);
    if (this.#timeout > 0 && Number.isFinite(this.#timeout)) {
      this.#timer = network.later(host, this.#timeout, () => {
        this.#timer = undefined;
        this.#fail(new TimeoutError(String(destination.host)));
      });
    }
    this.#hook('startedConnecting', () => this.#factory.startedConnecting?.(this));
    if (this.#state !== 'connecting') return;
    if (address === undefined) {
      const attempt = this.#attempt;
      network.soon(host, () => {
        if (this.#attempt === attempt && this.#state === 'connecting') {
          this.#fail(
            new DNSLookupError(`no simulated host is called ${destination.host}`, {
              hostname: destination.host,
            }),
          );
        }
      });
      return;
    }
    const attempt: ConnectAttempt = {
      alive: true,
      connector: this,
      host,
      localAddress: host.address,
      localPort: host.ephemeralPort(),
      address,
      port: destination.port,
    };
    this.#attempt = attempt;
    network.record('connect', {
      host: host.name,
      from: `${host.address}:${attempt.localPort}`,
      to: `${address}:${destination.port}`,
    });
    network.sendSyn(attempt);
  }

  stopConnecting(): void {
    if (this.#state !== 'connecting') throw new NotConnectingError();
    this.#fail(new UserError(String(this.#destination.host)));
  }

  disconnect(): void {
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#transport?.loseConnection();
  }

  getDestination(): IPv4Address {
    return this.#destination;
  }

  /** `<SimulatedConnector to IPv4Address(TCP, 'server', 80) connecting>`. */
  toString(): string {
    return `<SimulatedConnector to ${String(this.#destination)} ${this.#state}>`;
  }

  /** @internal The SYN-ACK of `attempt` arrived: connect, unless the attempt was given up. */
  synAck(attempt: ConnectAttempt, transport: SimulatedTransport): boolean {
    if (attempt !== this.#attempt || this.#state !== 'connecting' || !attempt.alive) return false;
    attempt.alive = false;
    this.#attempt = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#state = 'connected';
    this.#transport = transport;
    transport.onLost = (reason) => this.#lost(reason);
    const protocol = buildProtocolFor(this.#factory, this.#destination);
    transport.attach(protocol ?? new NullProtocol());
    if (protocol === null) transport.loseConnection();
    return true;
  }

  /** @internal Nothing listens where `attempt` went. */
  refused(attempt: ConnectAttempt): void {
    if (attempt !== this.#attempt || this.#state !== 'connecting') return;
    this.#fail(new ConnectionRefusedError(`${attempt.address}:${attempt.port}`));
  }

  /** @internal The host stopped while connecting. */
  abandon(): void {
    if (this.#state === 'connecting') {
      this.#fail(new ConnectError(String(this.#destination.host)));
    }
  }

  #fail(error: Error): void {
    if (this.#state !== 'connecting') return;
    if (this.#attempt !== undefined) this.#attempt.alive = false;
    this.#attempt = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#state = 'disconnected';
    this.#network.record('connect-failed', {
      host: this.#host.name,
      to: String(this.#destination.host),
      reason: error.name,
    });
    const reason = new Failure(error);
    this.#hook('clientConnectionFailed', () =>
      this.#factory.clientConnectionFailed?.(this, reason),
    );
    this.#stopFactoryIfIdle();
  }

  #lost(reason: Failure): void {
    this.#transport = undefined;
    this.#state = 'disconnected';
    this.#hook('clientConnectionLost', () => this.#factory.clientConnectionLost?.(this, reason));
    this.#stopFactoryIfIdle();
  }

  #stopFactoryIfIdle(): void {
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#hook('doStop', () => this.#factory.doStop());
    }
  }

  #hook(name: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#network.callbackFailed(error);
      log.failure('Unhandled error in {hook} of {factory} for {connector}', error, {
        hook: name,
        factory: this.#factory.constructor.name,
        connector: String(this),
      });
    }
  }
}
