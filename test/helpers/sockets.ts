// Real sockets for the integration tests: a NodeReactor per test that
// remembers every port and connector opened through it, and a recording
// protocol. `close()` stops the ports, disconnects the connectors, shuts the
// reactor down (which closes every connection still open) and then checks
// that no socket handle is left. Test-only; not exported.

import { AssertionError } from 'node:assert';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { Deferred, type Failure } from 'torsion/defer';
import { ClientFactory, type IPAddress, Protocol, type UNIXAddress } from 'torsion/protocol';
import {
  type ConnectTCPOptions,
  type ConnectUNIXOptions,
  type IAddress,
  type IConnector,
  type IListeningPort,
  type IProtocol,
  type IProtocolFactory,
  type ListenTCPOptions,
  type ListenUNIXOptions,
  NodeReactor,
  ReactorNotRestartable,
} from 'torsion/reactor';

/** The kinds of libuv handle that are sockets. */
const SOCKET_HANDLES = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'ConnectWrap']);

/** How many socket handles this process has open now. */
export function openSocketHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => SOCKET_HANDLES.has(name)).length;
}

/** Lets one turn of Node's loop pass. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/**
 * Waits for `n` (at least 2) turns of Node's loop, one immediate after
 * another: between two of them Node polls for I/O once, and by the last one
 * every callback queued before the call (next ticks, immediates, close
 * events, I/O already in the kernel) has run. After a socket has closed,
 * nothing more can come from it, so this is the point at which "nothing
 * else happened" holds for a closed connection.
 */
export async function loopTurns(n = 2): Promise<void> {
  for (let i = 0; i < Math.max(n, 2); i++) await nextTurn();
}

/**
 * Waits `seconds` of real time. Not for "nothing else happened" checks:
 * wait for {@link loopTurns} or {@link SocketHarness.roundTrip} instead.
 */
export function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, seconds * 1000);
  });
}

/**
 * Waits for `d`, failing with a message naming `what` after `seconds`, so a
 * test that hangs says what it was waiting for.
 */
export function waitFor<T>(d: PromiseLike<T>, what: string, seconds = 10): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new AssertionError({ message: `timed out after ${seconds}s waiting for ${what}` })),
      seconds * 1000,
    );
  });
  return Promise.race([Promise.resolve(d), timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` each turn of the loop until it holds, for at most `seconds`. */
export async function until(predicate: () => boolean, what: string, seconds = 10): Promise<void> {
  if (!(await pollUntil(predicate, seconds))) {
    throw new AssertionError({ message: `timed out after ${seconds}s waiting for ${what}` });
  }
}

/**
 * Polls `predicate` every millisecond until it holds, for at most `seconds`.
 * @returns Whether it held.
 */
export async function pollUntil(predicate: () => boolean, seconds: number): Promise<boolean> {
  const deadline = performance.now() + seconds * 1000;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await sleep(0.001);
  }
  return true;
}

/**
 * A NodeReactor that remembers the ports and connectors a test opens, and
 * closes everything at the end.
 */
export class SocketHarness {
  readonly reactor = new NodeReactor();
  readonly #ports: IListeningPort[] = [];
  readonly #connectors: IConnector[] = [];
  readonly #baseline = openSocketHandles();

  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: ListenTCPOptions,
  ): IListeningPort<IPAddress> {
    const listening = this.reactor.listenTCP(port, factory, options);
    this.#ports.push(listening);
    return listening;
  }

  connectTCP(
    host: string,
    port: number,
    factory: IProtocolFactory,
    options?: ConnectTCPOptions,
  ): IConnector {
    const connector = this.reactor.connectTCP(host, port, factory, options);
    this.#connectors.push(connector);
    return connector;
  }

  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: TlsOptions,
    options?: ListenTCPOptions,
  ): IListeningPort<IPAddress> {
    const listening = this.reactor.listenSSL(port, factory, contextFactory, options);
    this.#ports.push(listening);
    return listening;
  }

  connectSSL(
    host: string,
    port: number,
    factory: IProtocolFactory,
    contextFactory: ConnectionOptions,
    options?: ConnectTCPOptions,
  ): IConnector {
    const connector = this.reactor.connectSSL(host, port, factory, contextFactory, options);
    this.#connectors.push(connector);
    return connector;
  }

  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options?: ListenUNIXOptions,
  ): IListeningPort<UNIXAddress> {
    const listening = this.reactor.listenUNIX(path, factory, options);
    this.#ports.push(listening);
    return listening;
  }

  connectUNIX(path: string, factory: IProtocolFactory, options?: ConnectUNIXOptions): IConnector {
    const connector = this.reactor.connectUNIX(path, factory, options);
    this.#connectors.push(connector);
    return connector;
  }

  /**
   * Sends a byte over a fresh loopback connection on this reactor and waits
   * for its echo, then for both ends to close. By then Node has polled for
   * I/O several times since the call, so bytes or connection attempts that
   * were already in the kernel before it (on any socket) have been seen:
   * the definite event after which "the peer did nothing" holds.
   */
  async roundTrip(): Promise<void> {
    const echo = new CollectingFactory(() => new EchoRecorder());
    const listening = this.listenTCP(0, echo, { interface: '127.0.0.1' });
    const host = listening.getHost() as IAddress & { port: number };
    const client = new RecordingClientFactory(() => new Recorder());
    this.connectTCP('127.0.0.1', host.port, client);
    const protocol = await waitFor(client.nth(0), 'the probe connection');
    await waitFor(protocol.made, 'the probe connectionMade');
    protocol.transport.write(Buffer.from('?'));
    await waitFor(protocol.bytes(1), 'the probe echo');
    protocol.transport.loseConnection();
    await waitFor(protocol.lost, 'the probe connectionLost');
    const serverSide = await waitFor(echo.nth(0), 'the probe server protocol');
    await waitFor(serverSide.lost, 'the probe server connectionLost');
    await waitFor(listening.stopListening(), 'the probe port to stop');
  }

  /** Remembers a port or connector opened some other way (ClientCreator, a test's own). */
  adopt(item: IListeningPort | IConnector): void {
    if ('stopListening' in item) this.#ports.push(item);
    else this.#connectors.push(item);
  }

  /**
   * Stops every port, disconnects every connector, shuts the reactor down
   * (closing every connection still open), and fails if socket handles are
   * still open a second later.
   */
  async close(): Promise<void> {
    for (const connector of this.#connectors) connector.disconnect();
    await Promise.all(this.#ports.map((p) => waitFor(p.stopListening(), `${p} to stop`, 5)));
    try {
      this.reactor.callWhenRunning(() => this.reactor.stop());
      await waitFor(this.reactor.run({ installSignalHandlers: false }), 'reactor shutdown', 5);
    } catch (error) {
      // The test ran and stopped the reactor itself.
      if (!(error instanceof ReactorNotRestartable)) throw error;
    }
    await until(
      () => openSocketHandles() <= this.#baseline,
      `socket handles to close (${openSocketHandles()} open, ${this.#baseline} before the test)`,
      2,
    );
  }
}

/** A harness closed when test `t` ends. */
export function harness(t: TestContext): SocketHarness {
  const h = new SocketHarness();
  t.after(() => h.close());
  return h;
}

/**
 * A promise and the function that resolves it. Promises, not Deferreds:
 * a Deferred given a Failure as its result fails.
 */
export class Signal<T> {
  readonly promise: Promise<T>;
  fire!: (value: T) => void;
  fired = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.fire = (value) => {
        this.fired = true;
        resolve(value);
      };
    });
  }
}

/**
 * A protocol that records what happens to it, with promises for the
 * moments a test waits for.
 */
export class Recorder extends Protocol {
  readonly #made = new Signal<void>();
  readonly #lost = new Signal<Failure>();
  readonly chunks: Buffer[] = [];
  received = 0;
  lostCalls = 0;
  reason: Failure | undefined;
  #waiting: Array<[number, Deferred<void>]> = [];

  /** Resolves once connectionMade has run. */
  get made(): Promise<void> {
    return this.#made.promise;
  }

  /** Resolves with the reason once connectionLost has run. */
  get lost(): Promise<Failure> {
    return this.#lost.promise;
  }

  override connectionMade(): void {
    this.#made.fire();
  }

  override dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
    this.received += data.byteLength;
    const ready = this.#waiting.filter(([n]) => this.received >= n);
    this.#waiting = this.#waiting.filter(([n]) => this.received < n);
    for (const [, d] of ready) d.callback(undefined);
  }

  override connectionLost(reason: Failure): void {
    this.lostCalls++;
    this.reason = reason;
    if (this.lostCalls === 1) this.#lost.fire(reason);
  }

  /** Everything received so far. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Fires once at least `n` bytes have arrived. */
  bytes(n: number): Deferred<void> {
    const d = new Deferred<void>();
    if (this.received >= n) d.callback(undefined);
    else this.#waiting.push([n, d]);
    return d;
  }
}

/** A recording protocol that echoes what it receives. */
export class EchoRecorder extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** Keeps the protocols a factory builds, and lets a test wait for the nth. */
class Built<P> {
  readonly all: P[] = [];
  readonly #waiting = new Map<number, Deferred<P>[]>();

  add(protocol: P): void {
    this.all.push(protocol);
    const index = this.all.length - 1;
    const waiting = this.#waiting.get(index) ?? [];
    this.#waiting.delete(index);
    for (const d of waiting) d.callback(protocol);
  }

  nth(index: number): Deferred<P> {
    const d = new Deferred<P>();
    const built = this.all[index];
    if (built !== undefined) d.callback(built);
    else this.#waiting.set(index, [...(this.#waiting.get(index) ?? []), d]);
    return d;
  }
}

/**
 * A server factory that builds protocols with `make`, keeps them, and counts
 * `doStart`/`doStop` calls.
 */
export class CollectingFactory<P extends IProtocol> implements IProtocolFactory {
  starts = 0;
  stops = 0;
  readonly #built = new Built<P>();
  readonly #make: () => P;

  constructor(make: () => P) {
    this.#make = make;
  }

  /** The protocols built so far, in order. */
  get protocols(): readonly P[] {
    return this.#built.all;
  }

  buildProtocol(_addr: IAddress): P {
    const protocol = this.#make();
    this.#built.add(protocol);
    return protocol;
  }

  doStart(): void {
    this.starts++;
  }

  doStop(): void {
    this.stops++;
  }

  /** Fires with the `index`th protocol built (from 0), once it is built. */
  nth(index: number): Deferred<P> {
    return this.#built.nth(index);
  }
}

/**
 * A ClientFactory that builds protocols with `make` and records what its
 * connectors tell it.
 */
export class RecordingClientFactory<P extends IProtocol> extends ClientFactory<P> {
  override noisy = false;
  starts = 0;
  stops = 0;
  readonly started: IConnector[] = [];
  readonly failures: Failure[] = [];
  readonly losses: Failure[] = [];
  readonly #failed = new Signal<Failure>();
  readonly #lostConnection = new Signal<Failure>();
  readonly #built = new Built<P>();
  readonly #make: () => P;

  constructor(make: () => P) {
    super();
    this.#make = make;
  }

  get protocols(): readonly P[] {
    return this.#built.all;
  }

  /** Resolves with the first clientConnectionFailed reason. */
  get failed(): Promise<Failure> {
    return this.#failed.promise;
  }

  /** Resolves with the first clientConnectionLost reason. */
  get lostConnection(): Promise<Failure> {
    return this.#lostConnection.promise;
  }

  override buildProtocol(_addr: IAddress): P {
    const protocol = this.#make();
    this.#built.add(protocol);
    return protocol;
  }

  override doStart(): void {
    this.starts++;
    super.doStart();
  }

  override doStop(): void {
    this.stops++;
    super.doStop();
  }

  override startedConnecting(connector: IConnector): void {
    this.started.push(connector);
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.failures.push(reason);
    if (this.failures.length === 1) this.#failed.fire(reason);
  }

  override clientConnectionLost(_connector: IConnector, reason: Failure): void {
    this.losses.push(reason);
    if (this.losses.length === 1) this.#lostConnection.fire(reason);
  }

  nth(index: number): Deferred<P> {
    return this.#built.nth(index);
  }
}

/** Whether this machine can listen on the IPv6 loopback address (`::1`). */
export async function ipv6LoopbackWorks(): Promise<boolean> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
