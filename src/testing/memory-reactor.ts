// MemoryReactor: a reactor that records what it is asked to do and does no
// I/O, for testing code that listens and connects
// (Twisted: twisted.internet.testing.MemoryReactor & co).
// Tests: test/unit/testing/memory-reactor.test.ts, test/unit/testing/fake-process.test.ts

import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { bindAllMethods, bindMethods } from '../internet/_bind.js';
import { ipFamily } from '../internet/_ip.js';
import { type IPAddress, IPv4Address, IPv6Address, UNIXAddress } from '../internet/address.js';
import { Deferred, fail, succeed } from '../internet/defer.js';
import {
  CannotListenError,
  ConnectionRefusedError,
  DNSLookupError,
  ReactorAlreadyRunning,
} from '../internet/error.js';
import type {
  ConnectTCPOptions,
  ConnectUNIXOptions,
  IAddress,
  IConnector,
  IDatagramProtocol,
  IListeningPort,
  IProcessProtocol,
  IProtocolFactory,
  IReactorCore,
  IReactorMulticast,
  IReactorProcess,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  ListenMulticastOptions,
  ListenTCPOptions,
  ListenUDPOptions,
  ListenUNIXOptions,
  RunOptions,
  SpawnProcessOptions,
  SystemEventPhase,
  SystemEventTriggerID,
  SystemEventType,
} from '../internet/interfaces.js';
import { Clock, type DelayedCall } from '../internet/task/index.js';
import { FakeDatagramPort } from './fake-datagram.js';
import { FakeProcessTransport } from './fake-process.js';

// ---------------------------------------------------------------------------
// What the reactor records

/**
 * A function and its arguments, as recorded by
 * {@link MemoryReactor.callWhenRunning} and
 * {@link MemoryReactor.addSystemEventTrigger}.
 *
 * @since 0.1.0
 */
export interface RecordedTrigger extends SystemEventTriggerID {
  /** The function to call. */
  readonly f: (...args: never[]) => unknown;
  /** Its arguments. */
  readonly args: readonly unknown[];
}

/**
 * A {@link MemoryReactor.listenTCP} call: `[port, factory, backlog, interface]`,
 * with the defaults filled in.
 *
 * @since 0.1.0
 */
export type TCPServerRecord = [
  port: number,
  factory: IProtocolFactory,
  backlog: number,
  iface: string,
];

/**
 * A {@link MemoryReactor.connectTCP} call:
 * `[host, port, factory, timeout, bindAddress]`, with the defaults filled in.
 *
 * @since 0.1.0
 */
export type TCPClientRecord = [
  host: string,
  port: number,
  factory: IProtocolFactory,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
];

/**
 * A {@link MemoryReactor.listenSSL} call:
 * `[port, factory, contextFactory, backlog, interface]`.
 *
 * @since 0.1.0
 */
export type SSLServerRecord = [
  port: number,
  factory: IProtocolFactory,
  contextFactory: TlsOptions,
  backlog: number,
  iface: string,
];

/**
 * A {@link MemoryReactor.connectSSL} call:
 * `[host, port, factory, contextFactory, timeout, bindAddress]`.
 *
 * @since 0.1.0
 */
export type SSLClientRecord = [
  host: string,
  port: number,
  factory: IProtocolFactory,
  contextFactory: ConnectionOptions,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
];

/**
 * A {@link MemoryReactor.listenUNIX} call: `[address, factory, backlog, mode, wantPID]`.
 *
 * @since 0.1.0
 */
export type UNIXServerRecord = [
  address: string,
  factory: IProtocolFactory,
  backlog: number,
  mode: number,
  wantPID: boolean,
];

/**
 * A {@link MemoryReactor.connectUNIX} call: `[address, factory, timeout, checkPID]`.
 *
 * @since 0.1.0
 */
export type UNIXClientRecord = [
  address: string,
  factory: IProtocolFactory,
  timeout: number,
  checkPID: boolean,
];

/**
 * A {@link MemoryReactor.listenUDP} call: `[port, protocol, interface, maxPacketSize]`.
 *
 * @since 0.1.0
 */
export type UDPServerRecord = [
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
];

/**
 * A {@link MemoryReactor.listenMulticast} call:
 * `[port, protocol, interface, maxPacketSize, listenMultiple]`.
 *
 * @since 0.1.0
 */
export type MulticastServerRecord = [
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
  listenMultiple: boolean,
];

/**
 * A {@link MemoryReactor.spawnProcess} call: `[processProtocol, executable,
 * args, options, transport]`, the transport being the fake the protocol was
 * connected to.
 *
 * @since 0.1.0
 */
export type SpawnProcessRecord = [
  processProtocol: IProcessProtocol,
  executable: string,
  args: readonly string[],
  options: SpawnProcessOptions,
  transport: FakeProcessTransport,
];

/** The kind of socket a {@link FakePort} pretends to be. */
export type FakePortKind = 'TCP' | 'SSL' | 'UNIX' | 'UDP';

// ---------------------------------------------------------------------------
// Fake ports and connectors

/**
 * The listening port a {@link MemoryReactor} hands out: it accepts nothing,
 * and records whether it is still listening.
 *
 * @typeParam A - The type of its address: `IPAddress` from `listenTCP`,
 *   `UNIXAddress` from `listenUNIX`.
 * @see Twisted: twisted.internet.testing._FakePort
 * @since 0.1.0
 */
export class FakePort<A extends IAddress = IAddress> implements IListeningPort<A> {
  /** The kind of socket it pretends to be. */
  readonly kind: FakePortKind;
  /** The factory (or, for UDP, the datagram protocol) it was given. */
  readonly factory: IProtocolFactory | IDatagramProtocol;
  /** True until `stopListening`, and again after `startListening`. */
  listening = true;
  /** Whether `stopListening` has been called. */
  stoppedListening = false;
  readonly #address: A;

  /**
   * @param kind - The kind of socket.
   * @param address - What `getHost()` returns.
   * @param factory - The factory or datagram protocol it serves.
   */
  constructor(kind: FakePortKind, address: A, factory: IProtocolFactory | IDatagramProtocol) {
    this.kind = kind;
    this.#address = address;
    this.factory = factory;
    bindMethods(this, ['stopListening']);
  }

  /** Sets `listening` again. */
  startListening(): void {
    this.listening = true;
  }

  /**
   * Clears `listening` and sets `stoppedListening`.
   *
   * @returns A Deferred that has already fired.
   *
   * Cancellation: it has fired already, so cancelling does nothing.
   */
  stopListening(): Deferred<void> {
    this.listening = false;
    this.stoppedListening = true;
    return succeed(undefined);
  }

  /** The address it pretends to listen on. */
  getHost(): A {
    return this.#address;
  }

  /** `<FakePort TCP IPv4Address(TCP, '0.0.0.0', 8080)>`. */
  toString(): string {
    return `<FakePort ${this.kind} ${String(this.#address)}${this.listening ? '' : ' (stopped)'}>`;
  }
}

/** Where a {@link FakeConnector} is: connecting, stopped, or disconnected. */
export type FakeConnectorState = 'connecting' | 'stopped' | 'disconnected';

/**
 * The connector a {@link MemoryReactor} hands out: it never connects by
 * itself, and records what it is told.
 *
 * @remarks
 * A test completes or fails the attempt itself: call the factory's
 * `buildProtocol` and `makeConnection` with a transport, or its
 * `clientConnectionFailed`, or use a `ConnectionCompleter`.
 *
 * @typeParam A - The type of the address it connects to.
 * @see Twisted: twisted.internet.testing._FakeConnector
 * @since 0.1.0
 */
export class FakeConnector<A extends IAddress = IAddress> implements IConnector<A> {
  /** The factory of the connection attempt. */
  readonly factory: IProtocolFactory;
  /** `'connecting'` at first and after `connect()`; then what `stopConnecting` or `disconnect` made it. */
  state: FakeConnectorState = 'connecting';
  /** Whether `stopConnecting` has ever been called. */
  stoppedConnecting = false;
  /** Whether `disconnect` has ever been called. */
  disconnected = false;
  /** How many times `connect` has been called. */
  connectCalls = 0;
  readonly #address: A;

  /**
   * @param address - What `getDestination()` returns.
   * @param factory - The factory of the attempt.
   */
  constructor(address: A, factory: IProtocolFactory) {
    this.#address = address;
    this.factory = factory;
    bindMethods(this, ['connect', 'stopConnecting', 'disconnect']);
  }

  /** Sets `stoppedConnecting`; the state becomes `'stopped'`. */
  stopConnecting(): void {
    this.stoppedConnecting = true;
    this.state = 'stopped';
  }

  /** Sets `disconnected`; the state becomes `'disconnected'`. */
  disconnect(): void {
    this.disconnected = true;
    this.state = 'disconnected';
  }

  /** Counts the call; the state becomes `'connecting'` again. Nothing connects. */
  connect(): void {
    this.connectCalls++;
    this.state = 'connecting';
  }

  /** The address given to the reactor's `connect…` call. */
  getDestination(): A {
    return this.#address;
  }

  /** `<FakeConnector IPv4Address(TCP, 'example.com', 80) connecting>`. */
  toString(): string {
    return `<FakeConnector ${String(this.#address)} ${this.state}>`;
  }
}

// ---------------------------------------------------------------------------
// The reactor

/** The first port number a {@link MemoryReactor} gives to a port-0 listener. */
const FIRST_EPHEMERAL_PORT = 49152;

function ipAddress(type: 'TCP' | 'UDP', host: string, port: number): IPAddress {
  return ipFamily(host) === 6
    ? new IPv6Address(type, host, port)
    : new IPv4Address(type, host, port);
}

function hasStartedConnecting(
  factory: IProtocolFactory,
): factory is IProtocolFactory & { startedConnecting(connector: IConnector): void } {
  return typeof (factory as { startedConnecting?: unknown }).startedConnecting === 'function';
}

/**
 * A reactor that records every listen and connect call and does no I/O:
 * no sockets, no event loop.
 *
 * @remarks
 * Each `listen…` call is recorded (`tcpServers`, `sslServers`,
 * `unixServers`, `udpServers`) and returns a {@link FakePort}, also kept in
 * `ports`. Each `connect…` call is recorded (`tcpClients`, `sslClients`,
 * `unixClients`), calls the factory's `startedConnecting` (if it has one)
 * with a {@link FakeConnector}, and keeps that in `connectors`. Nothing ever
 * connects by itself: the test plays the network, by hand or with a
 * `ConnectionCompleter`.
 *
 * Each `spawnProcess` call is recorded in `processes` and connects the
 * protocol to a {@link FakeProcessTransport}, which the test plays as the
 * child (output, closing descriptors, exit); no process is started.
 *
 * A port-0 listener gets a port number from a counter: 49152 for the first,
 * then 49153, … (`getHost().port`), so that tests can connect to it; the
 * records keep the 0 that was asked for.
 *
 * The life cycle is recorded too: `run()` sets `running` and `hasRun`,
 * calls the `callWhenRunning` functions in order, then calls `stop()`, and
 * returns a settled promise; `stop()` clears `running` and sets `hasStopped`;
 * `crash()` clears `running` and sets `hasCrashed`. System event triggers are
 * recorded in `triggers` and run only by `fireSystemEvent`.
 *
 * Differences from Twisted: `hasRun`, `hasStopped` and `hasCrashed` start
 * false; `fireSystemEvent`, `removeSystemEventTrigger` and `resolve` work
 * (IP addresses and the names in `hosts` resolve); a listener's address uses
 * the interface asked for. Like Twisted's fake (and unlike a real reactor),
 * `stop()` does not throw when the reactor is not running.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * startServer(reactor);
 * const [port, factory] = reactor.tcpServers[0]!;
 * assert.equal(port, 8080);
 * const proto = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 5000));
 * ```
 *
 * @see Twisted: twisted.internet.testing.MemoryReactor
 * @since 0.1.0
 */
export class MemoryReactor
  implements
    IReactorCore,
    IReactorTCP,
    IReactorUNIX,
    IReactorSSL,
    IReactorUDP,
    IReactorMulticast,
    IReactorProcess
{
  /** True between `run()` and `stop()` or `crash()`. */
  running = false;
  /** Whether `run()` has been called. */
  hasRun = false;
  /** Whether `stop()` has been called. */
  hasStopped = false;
  /** Whether `crash()` has been called. */
  hasCrashed = false;
  /** The functions given to `callWhenRunning`, in order. */
  readonly whenRunningHooks: RecordedTrigger[] = [];
  /** The system event triggers added and not yet run or removed: `triggers[phase][eventType]`. */
  readonly triggers: Partial<Record<SystemEventPhase, Record<string, RecordedTrigger[]>>> = {};
  /** The `listenTCP` calls, in order. */
  readonly tcpServers: TCPServerRecord[] = [];
  /** The `connectTCP` calls, in order. */
  readonly tcpClients: TCPClientRecord[] = [];
  /** The `listenSSL` calls, in order. */
  readonly sslServers: SSLServerRecord[] = [];
  /** The `connectSSL` calls, in order. */
  readonly sslClients: SSLClientRecord[] = [];
  /** The `listenUNIX` calls, in order. */
  readonly unixServers: UNIXServerRecord[] = [];
  /** The `connectUNIX` calls, in order. */
  readonly unixClients: UNIXClientRecord[] = [];
  /** The `listenUDP` calls, in order. */
  readonly udpServers: UDPServerRecord[] = [];
  /** The `listenMulticast` calls, in order. */
  readonly multicastServers: MulticastServerRecord[] = [];
  /** The `spawnProcess` calls, in order, each with its fake process. */
  readonly processes: SpawnProcessRecord[] = [];
  /** The connectors handed out by the `connect…` methods, in order. */
  readonly connectors: FakeConnector[] = [];
  /** The ports handed out by the `listen…` methods, in order. */
  readonly ports: FakePort[] = [];
  /** Host names `resolve` knows, and their addresses. */
  readonly hosts = new Map<string, string>();
  #nextPort = FIRST_EPHEMERAL_PORT;

  /** A reactor that records; every method works unbound (`callWhenRunning(reactor.stop)`). */
  constructor() {
    bindAllMethods(this);
  }

  /**
   * Resolves an IP address to itself and a name in `hosts` to its address.
   *
   * @param name - A host name or IP address.
   * @param _timeout - Ignored.
   * @returns A Deferred that has already fired with the address, or failed
   *   with `DNSLookupError` for an unknown name.
   *
   * Cancellation: it has fired already, so cancelling does nothing.
   */
  resolve(name: string, _timeout?: number): Deferred<string> {
    if (ipFamily(name) !== 0) return succeed(name);
    const address = this.hosts.get(name);
    if (address !== undefined) return succeed(address);
    return fail(new DNSLookupError(`address '${name}' not found`, { hostname: name }));
  }

  /**
   * Sets `running` and `hasRun`, calls the `callWhenRunning` functions in
   * order (including those they add), then calls `stop()`.
   *
   * @param _options - Ignored.
   * @returns A promise that has already settled.
   * @throws `ReactorAlreadyRunning` if it is running; whatever a function throws.
   */
  run(_options?: RunOptions): Promise<void> {
    if (this.running) throw new ReactorAlreadyRunning();
    this.running = true;
    this.hasRun = true;
    for (let i = 0; i < this.whenRunningHooks.length; i++) {
      const hook = this.whenRunningHooks[i] as RecordedTrigger;
      Reflect.apply(hook.f, undefined, hook.args);
    }
    this.stop();
    return Promise.resolve();
  }

  /** Clears `running` and sets `hasStopped`. Does not throw when not running. */
  stop(): void {
    this.running = false;
    this.hasStopped = true;
  }

  /** Clears `running` and sets `hasCrashed`. */
  crash(): void {
    this.running = false;
    this.hasCrashed = true;
  }

  /**
   * Runs the recorded triggers of `eventType`, phase by phase, and removes
   * them.
   *
   * @remarks
   * If `'before'` triggers return Deferreds that have not fired, the
   * `'during'` and `'after'` triggers run once they have. A trigger's throw
   * reaches the caller.
   */
  fireSystemEvent(eventType: SystemEventType): void {
    const waiting: Deferred<unknown>[] = [];
    for (const trigger of this.#take('before', eventType)) {
      const result = Reflect.apply(trigger.f, undefined, trigger.args);
      if (result instanceof Deferred) waiting.push(result);
    }
    let done = false;
    const rest = (): void => {
      if (done) return;
      done = true;
      for (const phase of ['during', 'after'] as const) {
        for (const trigger of this.#take(phase, eventType)) {
          Reflect.apply(trigger.f, undefined, trigger.args);
        }
      }
    };
    let pending = 0;
    for (const d of waiting) {
      let fired = false;
      let counted = false;
      d.addBoth((result) => {
        fired = true;
        if (counted && --pending === 0) rest();
        return result;
      });
      if (!fired) {
        counted = true;
        pending++;
      }
    }
    if (pending === 0) rest();
  }

  /**
   * Records `f(...args)` in `triggers[phase][eventType]`.
   *
   * @returns The recorded trigger, which is also its handle.
   * @throws RangeError for an unknown phase.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID {
    if (phase !== 'before' && phase !== 'during' && phase !== 'after') {
      throw new RangeError(`invalid system event phase '${String(phase)}'`);
    }
    const trigger: RecordedTrigger = { phase, eventType, f, args };
    const byEvent = (this.triggers[phase] ??= {});
    (byEvent[eventType] ??= []).push(trigger);
    return trigger;
  }

  /**
   * Removes a recorded trigger or `callWhenRunning` function.
   *
   * @throws Error if it is not recorded (never added, run, or removed already).
   */
  removeSystemEventTrigger(triggerID: SystemEventTriggerID): void {
    const list = this.triggers[triggerID.phase]?.[triggerID.eventType];
    for (const candidates of [list, this.whenRunningHooks]) {
      const index = candidates?.indexOf(triggerID as RecordedTrigger) ?? -1;
      if (candidates !== undefined && index !== -1) {
        candidates.splice(index, 1);
        return;
      }
    }
    throw new Error(`no such ${triggerID.phase}-${triggerID.eventType} trigger`);
  }

  /**
   * Records `f(...args)` in `whenRunningHooks`, for `run()` to call.
   *
   * @returns The recorded call, which `removeSystemEventTrigger` accepts.
   */
  callWhenRunning<A extends unknown[]>(
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID {
    const hook: RecordedTrigger = { phase: 'after', eventType: 'startup', f, args };
    this.whenRunningHooks.push(hook);
    return hook;
  }

  /**
   * Records the call and returns a {@link FakePort} on `port` (or the next
   * free number for 0), at `interface` or `0.0.0.0`.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options: ListenTCPOptions = {},
  ): FakePort<IPAddress> {
    const iface = options.interface ?? '';
    this.tcpServers.push([port, factory, options.backlog ?? 511, iface]);
    return this.#port('TCP', ipAddress('TCP', iface || '0.0.0.0', this.#portNumber(port)), factory);
  }

  /**
   * Records the call, calls `factory.startedConnecting` if the factory has
   * it, and returns the {@link FakeConnector}.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IProtocolFactory,
    options: ConnectTCPOptions = {},
  ): FakeConnector<IPAddress> {
    this.tcpClients.push([host, port, factory, options.timeout ?? 30, options.bindAddress]);
    return this.#connector(ipAddress('TCP', host, port), factory);
  }

  /** Like `listenTCP`, recorded in `sslServers`. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: TlsOptions,
    options: ListenTCPOptions = {},
  ): FakePort<IPAddress> {
    const iface = options.interface ?? '';
    this.sslServers.push([port, factory, contextFactory, options.backlog ?? 511, iface]);
    return this.#port('SSL', ipAddress('TCP', iface || '0.0.0.0', this.#portNumber(port)), factory);
  }

  /** Like `connectTCP`, recorded in `sslClients`. */
  connectSSL(
    host: string,
    port: number,
    factory: IProtocolFactory,
    contextFactory: ConnectionOptions,
    options: ConnectTCPOptions = {},
  ): FakeConnector<IPAddress> {
    this.sslClients.push([
      host,
      port,
      factory,
      contextFactory,
      options.timeout ?? 30,
      options.bindAddress,
    ]);
    return this.#connector(ipAddress('TCP', host, port), factory);
  }

  /** Records the call and returns a {@link FakePort} at `UNIXAddress(address)`. */
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ): FakePort<UNIXAddress> {
    this.unixServers.push([
      address,
      factory,
      options.backlog ?? 511,
      options.mode ?? 0o666,
      options.wantPID ?? false,
    ]);
    return this.#port('UNIX', new UNIXAddress(address), factory);
  }

  /** Like `connectTCP`, to `UNIXAddress(address)`, recorded in `unixClients`. */
  connectUNIX(
    address: string,
    factory: IProtocolFactory,
    options: ConnectUNIXOptions = {},
  ): FakeConnector<UNIXAddress> {
    this.unixClients.push([address, factory, options.timeout ?? 30, options.checkPID ?? false]);
    return this.#connector(new UNIXAddress(address), factory);
  }

  /**
   * Records the call and returns a {@link FakePort} on a UDP address. The
   * protocol is not started: no datagram arrives.
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenUDPOptions = {},
  ): FakePort<IPAddress> {
    const iface = options.interface ?? '';
    this.udpServers.push([port, protocol, iface, options.maxPacketSize ?? 8192]);
    return this.#port(
      'UDP',
      ipAddress('UDP', iface || '0.0.0.0', this.#portNumber(port)),
      protocol,
    );
  }

  /**
   * Records the call and returns a {@link FakeDatagramPort} on a UDP
   * address, which records the multicast calls made on it. The protocol is
   * not started.
   */
  listenMulticast(
    port: number,
    protocol: IDatagramProtocol,
    options: ListenMulticastOptions = {},
  ): FakeDatagramPort {
    const iface = options.interface ?? '';
    this.multicastServers.push([
      port,
      protocol,
      iface,
      options.maxPacketSize ?? 8192,
      options.listenMultiple ?? false,
    ]);
    return new FakeDatagramPort(
      ipAddress('UDP', iface || '0.0.0.0', this.#portNumber(port)),
      protocol,
    );
  }

  /**
   * Records the call in `processes` and connects `processProtocol` to a
   * {@link FakeProcessTransport} (pids 4242, 4243, …), which the test plays:
   * `transport.output(1, data)`, `transport.exit(0)`.
   *
   * @throws Error for `usePTY: true`, as the real reactor.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[],
    options: SpawnProcessOptions = {},
  ): FakeProcessTransport {
    if (options.usePTY === true) throw new Error('spawnProcess: usePTY is not supported');
    const transport = new FakeProcessTransport({
      pid: 4242 + this.processes.length,
      childFDs: options.childFDs,
    });
    this.processes.push([processProtocol, executable, args, options, transport]);
    transport.connect(processProtocol);
    return transport;
  }

  #portNumber(port: number): number {
    return port === 0 ? this.#nextPort++ : port;
  }

  #port<A extends IAddress>(
    kind: FakePortKind,
    address: A,
    factory: IProtocolFactory | IDatagramProtocol,
  ): FakePort<A> {
    const port = new FakePort(kind, address, factory);
    this.ports.push(port);
    return port;
  }

  #connector<A extends IAddress>(address: A, factory: IProtocolFactory): FakeConnector<A> {
    const connector = new FakeConnector(address, factory);
    if (hasStartedConnecting(factory)) factory.startedConnecting(connector);
    this.connectors.push(connector);
    return connector;
  }

  #take(phase: SystemEventPhase, eventType: SystemEventType): RecordedTrigger[] {
    const byEvent = this.triggers[phase];
    const list = byEvent?.[eventType];
    if (byEvent === undefined || list === undefined) return [];
    delete byEvent[eventType];
    return list;
  }
}

/**
 * A {@link MemoryReactor} that is also a deterministic clock: its
 * `IReactorTime` is a {@link Clock}'s.
 *
 * @remarks
 * Time stands still until the test calls {@link MemoryReactorClock.advance}.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactorClock();
 * const d = new ClientCreator(reactor, Chat).connectTCP('chat.example', 6667);
 * reactor.advance(0);
 * ```
 *
 * @see Twisted: twisted.internet.testing.MemoryReactorClock
 * @since 0.1.0
 */
export class MemoryReactorClock extends MemoryReactor implements IReactorTime {
  readonly #clock: Clock;

  /**
   * @param start - The initial time in seconds. Default 0.
   */
  constructor(start = 0) {
    super();
    this.#clock = new Clock(start);
  }

  /** The current time on this clock, in seconds. */
  seconds(): number {
    return this.#clock.seconds();
  }

  /**
   * Schedules `f(...args)` to run once the clock has advanced `delay` seconds.
   *
   * @param delay - Seconds (float, at least 0).
   * @throws RangeError if `delay` is negative or NaN.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#clock.callLater(delay, f, ...args);
  }

  /** The calls not yet run or cancelled, earliest first. */
  getDelayedCalls(): DelayedCall[] {
    return this.#clock.getDelayedCalls();
  }

  /**
   * Moves time forward by `amount` seconds and runs the calls that fall due.
   *
   * @param amount - Seconds (float, at least 0).
   * @throws RangeError if `amount` is negative; whatever a call throws.
   */
  advance(amount: number): void {
    this.#clock.advance(amount);
  }

  /**
   * Advances the clock by each of `timings` in turn.
   *
   * @param timings - Seconds to advance, one step each.
   */
  pump(timings: Iterable<number>): void {
    this.#clock.pump(timings);
  }
}

/** Options of {@link RaisingMemoryReactor}. */
export interface RaisingMemoryReactorOptions {
  /**
   * What every `listen…` method throws.
   * @defaultValue a `CannotListenError`
   */
  listenException?: unknown;
  /**
   * What every `connect…` method throws.
   * @defaultValue a `ConnectionRefusedError`
   */
  connectException?: unknown;
}

/**
 * A reactor whose every listen and connect call throws, for testing how
 * code copes with that.
 *
 * @see Twisted: twisted.internet.testing.RaisingMemoryReactor
 * @since 0.1.0
 */
export class RaisingMemoryReactor
  implements IReactorTCP, IReactorSSL, IReactorUNIX, IReactorUDP, IReactorMulticast
{
  readonly #listenException: unknown;
  readonly #connectException: unknown;
  readonly #hasListenException: boolean;
  readonly #hasConnectException: boolean;

  /**
   * @param options - What to throw; see {@link RaisingMemoryReactorOptions}.
   */
  constructor(options: RaisingMemoryReactorOptions = {}) {
    this.#hasListenException = 'listenException' in options;
    this.#hasConnectException = 'connectException' in options;
    this.#listenException = options.listenException;
    this.#connectException = options.connectException;
  }

  /** @throws the listen exception, always. */
  listenTCP(port: number, _factory: IProtocolFactory, options: ListenTCPOptions = {}): never {
    throw this.#listenError(options.interface ?? '', port);
  }

  /** @throws the connect exception, always. */
  connectTCP(host: string, port: number, _factory: IProtocolFactory): never {
    throw this.#connectError(`${host}:${port}`);
  }

  /** @throws the listen exception, always. */
  listenSSL(
    port: number,
    _factory: IProtocolFactory,
    _contextFactory: TlsOptions,
    options: ListenTCPOptions = {},
  ): never {
    throw this.#listenError(options.interface ?? '', port);
  }

  /** @throws the connect exception, always. */
  connectSSL(
    host: string,
    port: number,
    _factory: IProtocolFactory,
    _contextFactory: ConnectionOptions,
  ): never {
    throw this.#connectError(`${host}:${port}`);
  }

  /** @throws the listen exception, always. */
  listenUNIX(address: string, _factory: IProtocolFactory): never {
    throw this.#listenError('', address);
  }

  /** @throws the connect exception, always. */
  connectUNIX(address: string, _factory: IProtocolFactory): never {
    throw this.#connectError(address);
  }

  /** @throws the listen exception, always. */
  listenUDP(port: number, _protocol: IDatagramProtocol, options: ListenUDPOptions = {}): never {
    throw this.#listenError(options.interface ?? '', port);
  }

  /** @throws the listen exception, always. */
  listenMulticast(
    port: number,
    _protocol: IDatagramProtocol,
    options: ListenMulticastOptions = {},
  ): never {
    throw this.#listenError(options.interface ?? '', port);
  }

  #listenError(iface: string, port: number | string): unknown {
    if (this.#hasListenException) return this.#listenException;
    return new CannotListenError(iface, port, 'RaisingMemoryReactor never listens');
  }

  #connectError(where: string): unknown {
    if (this.#hasConnectException) return this.#connectException;
    return new ConnectionRefusedError(where);
  }
}
