// Test doubles for UDP: a datagram transport that records what a protocol
// does with it, and an in-memory network that carries datagrams between
// datagram protocols when the test says so (Twisted:
// twisted.internet.testing.FakeDatagramTransport; the network has no
// Twisted equivalent, it plays the part iosim plays for streams).
// Tests: test/unit/testing/protocols.test.ts, test/unit/internet/udp.test.ts

import { type IPAddress, IPv4Address, IPv6Address } from '../internet/address.js';
import { type Deferred, succeed } from '../internet/defer.js';
import { InvalidAddressError } from '../internet/error.js';
import type {
  IAddress,
  IDatagramProtocol,
  IListeningPort,
  IMulticastTransport,
} from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { checkBytes } from './_bytes.js';

const log = new Logger('torsion.testing.datagram');

/**
 * A UDP transport that records the datagrams written to it, and what was
 * asked of it: `connect`, broadcast, the multicast settings and groups.
 *
 * @example
 * ```ts
 * const transport = new FakeDatagramTransport();
 * protocol.makeConnection(transport);
 * protocol.datagramReceived(Buffer.from('ping'), ['10.0.0.1', 5000]);
 * assert.deepEqual(transport.written, [[Buffer.from('pong'), ['10.0.0.1', 5000]]]);
 * ```
 *
 * @see Twisted: twisted.internet.testing.FakeDatagramTransport
 * @since 0.1.0
 */
export class FakeDatagramTransport implements IMulticastTransport {
  /** Each datagram written and where to: `undefined` means the connected peer. */
  readonly written: Array<[packet: Uint8Array, addr: readonly [string, number] | undefined]> = [];
  /** The peer given to `connect`, if any. */
  connectedTo: readonly [string, number] | undefined;
  /** Whether `stopListening` has been called. */
  stopped = false;
  /** The value last given to `setBroadcastAllowed`; false at first. */
  broadcastAllowed = false;
  /** The multicast groups joined and not left, as `[group, interface]`. */
  readonly groups: Array<[group: string, iface: string]> = [];
  /** The multicast TTL; 1 at first. */
  ttl = 1;
  /** The multicast loopback mode; true at first. */
  loopback = true;
  /** The outgoing multicast interface; `'0.0.0.0'` at first. */
  outgoingInterface = '0.0.0.0';
  readonly #host: IAddress;

  /**
   * @param host - What `getHost()` returns.
   */
  constructor(host: IAddress = { toString: () => 'FakeDatagramTransport' }) {
    this.#host = host;
  }

  /**
   * Records a copy of `packet` and `addr`.
   *
   * @throws TypeError if `packet` is not a Uint8Array.
   */
  write(packet: Uint8Array, addr?: readonly [string, number]): void {
    checkBytes(packet, 'write');
    this.written.push([new Uint8Array(packet), addr]);
  }

  /** Records the peer. */
  connect(host: string, port: number): void {
    this.connectedTo = [host, port];
  }

  /** The address given to the constructor. */
  getHost(): IAddress {
    return this.#host;
  }

  /**
   * Sets `stopped`.
   *
   * @returns A Deferred that has already fired.
   *
   * Cancellation: it has fired already, so cancelling does nothing.
   */
  stopListening(): Deferred<void> {
    this.stopped = true;
    return succeed(undefined);
  }

  /** Records the setting. */
  setBroadcastAllowed(enabled: boolean): void {
    this.broadcastAllowed = enabled;
  }

  /** The value last given to `setBroadcastAllowed`. */
  getBroadcastAllowed(): boolean {
    return this.broadcastAllowed;
  }

  /** The value last given to `setOutgoingInterface`. */
  getOutgoingInterface(): string {
    return this.outgoingInterface;
  }

  /** Records the interface; the Deferred has fired already. */
  setOutgoingInterface(addr: string): Deferred<void> {
    this.outgoingInterface = addr;
    return succeed(undefined);
  }

  /** The value last given to `setLoopbackMode`. */
  getLoopbackMode(): boolean {
    return this.loopback;
  }

  /** Records the mode. */
  setLoopbackMode(mode: boolean): void {
    this.loopback = mode;
  }

  /** The value last given to `setTTL`. */
  getTTL(): number {
    return this.ttl;
  }

  /** Records the TTL. */
  setTTL(ttl: number): void {
    this.ttl = ttl;
  }

  /** Adds `[addr, iface]` to `groups`; the Deferred has fired already. */
  joinGroup(addr: string, iface = ''): Deferred<void> {
    this.groups.push([addr, iface]);
    return succeed(undefined);
  }

  /** Removes `[addr, iface]` from `groups`; the Deferred has fired already. */
  leaveGroup(addr: string, iface = ''): Deferred<void> {
    const at = this.groups.findIndex(([g, i]) => g === addr && i === iface);
    if (at >= 0) this.groups.splice(at, 1);
    return succeed(undefined);
  }
}

/**
 * The port a `MemoryReactor`'s `listenMulticast` hands out: a
 * {@link FakeDatagramTransport} that is also a listening port on a UDP
 * address. Its protocol is not started.
 *
 * @since 0.1.0
 */
export class FakeDatagramPort extends FakeDatagramTransport implements IListeningPort<IPAddress> {
  /** The protocol it was given. */
  readonly protocol: IDatagramProtocol;
  readonly #address: IPAddress;

  /**
   * @param address - What `getHost()` returns.
   * @param protocol - The protocol it was given.
   */
  constructor(address: IPAddress, protocol: IDatagramProtocol) {
    super(address);
    this.#address = address;
    this.protocol = protocol;
  }

  /** Clears `stopped`. */
  startListening(): void {
    this.stopped = false;
  }

  /** The UDP address given to the constructor. */
  override getHost(): IPAddress {
    return this.#address;
  }
}

/** One datagram on a {@link MemoryDatagramNetwork}: from, to, and the bytes. */
export type MemoryDatagram = [
  from: readonly [string, number],
  to: readonly [string, number],
  packet: Uint8Array,
];

/**
 * A datagram transport on a {@link MemoryDatagramNetwork}: it records as
 * {@link FakeDatagramTransport} does, and queues each datagram on the
 * network for {@link MemoryDatagramNetwork.flush} to deliver.
 *
 * @since 0.1.0
 */
export class MemoryDatagramTransport extends FakeDatagramTransport {
  readonly #network: MemoryDatagramNetwork;
  readonly #address: readonly [string, number];

  /**
   * @param network - The network it sends on.
   * @param address - Its own `[host, port]`.
   */
  constructor(network: MemoryDatagramNetwork, address: readonly [string, number]) {
    const [host, port] = address;
    super(
      host.includes(':') ? new IPv6Address('UDP', host, port) : new IPv4Address('UDP', host, port),
    );
    this.#network = network;
    this.#address = address;
  }

  /**
   * Records the datagram and queues it to `addr` (or to the connected peer).
   *
   * @throws TypeError if `packet` is not a Uint8Array;
   *   {@link torsion/protocol!InvalidAddressError | InvalidAddressError} without an address on an unconnected
   *   transport, or once stopped.
   */
  override write(packet: Uint8Array, addr?: readonly [string, number]): void {
    super.write(packet, addr);
    const to = addr ?? this.connectedTo;
    if (to === undefined) {
      throw new InvalidAddressError(undefined, 'write() needs an address [host, port]');
    }
    if (this.stopped)
      throw new InvalidAddressError(this.#address.join(':'), 'the port has stopped');
    this.#network.queued.push([this.#address, to, new Uint8Array(packet)]);
  }

  /** Stops receiving and calls the protocol's `doStop` (or `stopProtocol`). */
  override stopListening(): Deferred<void> {
    if (!this.stopped) this.#network.unbind(this.#address);
    return super.stopListening();
  }
}

/**
 * Datagram protocols joined by an in-memory network: each `bind` gives a
 * protocol a transport and an address; what they write waits in `queued`
 * until {@link MemoryDatagramNetwork.flush} delivers it, in order.
 *
 * @remarks
 * Deterministic, no sockets: a datagram is delivered whole, or dropped
 * when nobody is bound at its destination (then a sender that is connected
 * gets `connectionRefused`, as an ICMP port unreachable would cause). A
 * connected protocol receives only from its peer. A callback that throws
 * is logged and delivery goes on.
 *
 * @example
 * ```ts
 * const network = new MemoryDatagramNetwork();
 * network.bind(server, ['10.0.0.1', 53]);
 * const client = network.bind(new Resolver());
 * client.write(query, ['10.0.0.1', 53]);
 * network.flush(); // the server gets the query, and its answer reaches the client
 * ```
 *
 * @since 0.1.0
 */
export class MemoryDatagramNetwork {
  /** Datagrams written and not yet delivered, oldest first. */
  readonly queued: MemoryDatagram[] = [];
  /** Datagrams delivered, in order. */
  readonly delivered: MemoryDatagram[] = [];
  /** Datagrams that found nobody at their destination. */
  readonly dropped: MemoryDatagram[] = [];
  readonly #bound = new Map<string, [IDatagramProtocol, MemoryDatagramTransport]>();
  #nextPort = 40000;

  /**
   * Binds `protocol` at `address` (port 0 or none: a free port on
   * 127.0.0.1) and starts it: `makeConnection` is called with its
   * transport.
   *
   * @returns The protocol's transport.
   * @throws {@link torsion/protocol!InvalidAddressError | InvalidAddressError} if the address is taken.
   */
  bind(
    protocol: IDatagramProtocol,
    address: readonly [string, number] = ['127.0.0.1', 0],
  ): MemoryDatagramTransport {
    const [host, port] = address;
    const actual: [string, number] = [host, port === 0 ? this.#nextPort++ : port];
    const key = actual.join(' ');
    if (this.#bound.has(key)) throw new InvalidAddressError(actual.join(':'), 'in use');
    const transport = new MemoryDatagramTransport(this, actual);
    this.#bound.set(key, [protocol, transport]);
    protocol.makeConnection(transport);
    return transport;
  }

  /**
   * Forgets what is bound at `address` and stops its protocol.
   *
   * @internal Called by the transport's `stopListening`.
   */
  unbind(address: readonly [string, number]): void {
    const key = address.join(' ');
    const entry = this.#bound.get(key);
    if (entry === undefined) return;
    this.#bound.delete(key);
    const [protocol] = entry;
    guard('stopping', protocol, () => {
      if (typeof protocol.doStop === 'function') protocol.doStop();
      else protocol.stopProtocol();
    });
  }

  /**
   * Delivers the queued datagrams, and those written meanwhile, until none
   * is left.
   *
   * @param limit - At most this many deliveries (default 10,000): two
   *   protocols that answer each other forever stop here.
   * @returns How many datagrams were delivered.
   */
  flush(limit = 10_000): number {
    let count = 0;
    while (this.queued.length > 0 && count < limit) {
      const datagram = this.queued.shift() as MemoryDatagram;
      const [from, to, packet] = datagram;
      const target = this.#bound.get(to.join(' '));
      if (target === undefined) {
        this.dropped.push(datagram);
        const sender = this.#bound.get(from.join(' '));
        const peer = sender?.[1].connectedTo;
        if (sender !== undefined && peer !== undefined && peer[0] === to[0] && peer[1] === to[1]) {
          guard('connectionRefused', sender[0], () => sender[0].connectionRefused());
        }
        continue;
      }
      const [protocol, transport] = target;
      const peer = transport.connectedTo;
      if (peer !== undefined && (peer[0] !== from[0] || peer[1] !== from[1])) {
        this.dropped.push(datagram);
        continue;
      }
      count++;
      this.delivered.push(datagram);
      guard('datagramReceived', protocol, () => protocol.datagramReceived(packet, from));
    }
    return count;
  }
}

function guard(what: string, protocol: IDatagramProtocol, f: () => void): void {
  try {
    f();
  } catch (error) {
    log.failure('Unhandled error in {protocol} ({what})', error, {
      protocol: protocol.constructor.name,
      what,
    });
  }
}
