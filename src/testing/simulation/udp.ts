// Simulated UDP: the port a simulated host's listenUDP returns (the listening
// port and the datagram protocol's transport at once, as the real UDP port),
// and the datagrams (and ICMP port-unreachable answers) the network carries.
// No node:dgram here: torsion/testing loads no socket module.
// Tests: test/unit/testing/simulation-udp.test.ts

import { bindMethods } from '../../internet/_bind.js';
import { IPv4Address } from '../../internet/address.js';
import { Deferred, succeed } from '../../internet/defer.js';
import {
  InvalidAddressError,
  MessageLengthError,
  NotListeningError,
} from '../../internet/error.js';
import type {
  IDatagramProtocol,
  IListeningPort,
  IUDPTransport,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { SimEvent } from './_events.js';
import type { SimulatedHost } from './host.js';
import type { LinkState } from './transport.js';

const log = new Logger('torsion.testing.simulation');

/** The largest UDP payload over IPv4: 65535 less the IP (20) and UDP (8) headers. */
export const MAX_UDP_PAYLOAD = 65507;

/** IP (20) and UDP (8) headers: a datagram fits a link if `mtu - 28` bytes hold it. */
export const UDP_HEADERS = 28;

/**
 * What a simulated UDP port needs of its network.
 *
 * @internal
 */
export interface UDPNetwork {
  /** Sends a datagram from `port` to `address:dstPort` (broadcast included). */
  sendDatagram(port: SimulatedUDPPort, data: Uint8Array, address: string, dstPort: number): void;
  soon(host: SimulatedHost, fn: () => void): unknown;
  record(event: string, fields: Record<string, string | number>): void;
  callbackFailed(error: unknown): void;
}

/**
 * A datagram, or the ICMP port unreachable that answers one, on its way.
 *
 * @internal
 */
export class Datagram extends SimEvent {
  constructor(
    readonly handler: DatagramHandler,
    /** A number unique within the network (an ICMP answer carries its datagram's). */
    readonly id: number,
    readonly icmp: boolean,
    readonly src: SimulatedHost,
    readonly dst: SimulatedHost | undefined,
    readonly link: LinkState,
    /** The sending port (for an ICMP answer: the port it is about). */
    readonly port: SimulatedUDPPort,
    readonly srcAddress: string,
    readonly srcPort: number,
    readonly dstAddress: string,
    readonly dstPort: number,
    readonly data: Uint8Array,
  ) {
    super();
  }

  fire(): void {
    this.handler.datagramFired(this);
  }
}

/** Where datagrams go when they fire. @internal */
export interface DatagramHandler {
  datagramFired(datagram: Datagram): void;
}

/**
 * A UDP port on a simulated host: the listening port and the datagram
 * protocol's transport, as the real UDP port is.
 *
 * @remarks
 * It keeps the real port's contract: the protocol is started
 * (`makeConnection`, so `doStart` and `startProtocol`) inside `listenUDP`;
 * `write(data, [host, port])` takes IP addresses only (a host name is an
 * `InvalidAddressError`, as on the real port), refuses datagrams over 65,507
 * bytes (`MessageLengthError`) and writes after `stopListening`
 * (`NotListeningError`); `connect(host, port)` ties it to one peer (then
 * `write(data)` needs no address, only the peer's datagrams are delivered,
 * and an ICMP port unreachable from the peer's host calls
 * `connectionRefused()`); `stopListening()` returns a Deferred that fires a
 * moment later, in the same virtual instant, after the protocol's `doStop`
 * (or `stopProtocol`). A datagram longer than `maxPacketSize` is truncated
 * on receipt. Sending to `'<broadcast>'` or 255.255.255.255 needs
 * `setBroadcastAllowed(true)` (otherwise the datagram is dropped and a
 * warning logged, as the system refuses it with EACCES); allowed, it goes to
 * every host of the network, this one included.
 *
 * @since 0.1.0
 */
export class SimulatedUDPPort implements IListeningPort<IPv4Address>, IUDPTransport {
  /** The port number (the one chosen, for port 0). */
  readonly port: number;
  /** The interface it is bound to; `0.0.0.0` for all. */
  readonly iface: string;
  /** Received datagrams are truncated to this many bytes. */
  readonly maxPacketSize: number;
  /** The protocol its datagrams go to. */
  readonly protocol: IDatagramProtocol;
  readonly #host: SimulatedHost;
  readonly #network: UDPNetwork;
  #listening = false;
  #closing: Deferred<void> | undefined;
  #connected: [string, number] | undefined;
  #broadcast = false;

  /** @internal Made by SimulatedHost.listenUDP. */
  constructor(
    host: SimulatedHost,
    network: UDPNetwork,
    port: number,
    iface: string,
    protocol: IDatagramProtocol,
    maxPacketSize: number,
  ) {
    this.#host = host;
    this.#network = network;
    this.port = port;
    this.iface = iface;
    this.protocol = protocol;
    this.maxPacketSize = maxPacketSize;
    bindMethods(this, ['stopListening', 'write', 'startListening']);
  }

  /** The host it is on. */
  get host(): SimulatedHost {
    return this.#host;
  }

  /** Whether it receives datagrams (bound, not stopped, its host up). */
  get listening(): boolean {
    return this.#listening && this.#closing === undefined;
  }

  /** The peer it is connected to, if any. */
  get connectedTo(): readonly [string, number] | undefined {
    return this.#connected;
  }

  /**
   * Binds the port and starts the protocol. Does nothing if bound already.
   *
   * @throws CannotListenError if the port is taken.
   */
  startListening(): void {
    if (this.#listening) return;
    this.#host.registerUDP(this);
    this.#listening = true;
    this.#connected = undefined;
    this.#network.record('udp-listen', { host: this.#host.name, port: this.port });
    try {
      this.protocol.makeConnection(this);
    } catch (error) {
      this.#failed(error, 'makeConnection');
    }
  }

  /**
   * Unbinds the port; the protocol's `doStop` (or `stopProtocol`) runs
   * later in this virtual instant, never from within this call.
   *
   * @returns A Deferred that fires once the port is closed (at once if it
   *   was not listening).
   */
  stopListening(): Deferred<void> {
    const closing = this.#closing;
    if (closing !== undefined) {
      const d = new Deferred<void>();
      closing.addBoth(() => {
        if (!d.called) d.callback(undefined);
      });
      return d;
    }
    if (!this.#listening) return succeed(undefined);
    const d = new Deferred<void>();
    this.#closing = d;
    this.#host.unregisterUDP(this);
    this.#network.record('udp-unlisten', { host: this.#host.name, port: this.port });
    this.#network.soon(this.#host, () => this.#closed());
    return d;
  }

  /** `IPv4Address('UDP', iface, port)`. */
  getHost(): IPv4Address {
    return new IPv4Address('UDP', this.iface, this.port);
  }

  /**
   * Sends one datagram over the simulated network.
   *
   * @param packet - The datagram.
   * @param addr - `[host, port]`, an IPv4 address; left out (or the peer
   *   itself) once connected.
   * @throws TypeError if `packet` is not a Uint8Array; InvalidAddressError
   *   for a host name, a bad port, a missing address or one other than the
   *   connected peer's; MessageLengthError over 65,507 bytes;
   *   NotListeningError once stopped (or its host crashed).
   */
  write(packet: Uint8Array, addr?: readonly [string, number]): void {
    if (!(packet instanceof Uint8Array)) {
      throw new TypeError(`write() expects Uint8Array, got ${typeof packet}`);
    }
    if (!this.listening) throw new NotListeningError('cannot write: the UDP port is not listening');
    if (packet.byteLength > MAX_UDP_PAYLOAD) {
      throw new MessageLengthError(
        `message too long: ${packet.byteLength} bytes, at most ${MAX_UDP_PAYLOAD} over IPv4`,
      );
    }
    const connected = this.#connected;
    if (connected !== undefined) {
      if (addr !== undefined && (addr[0] !== connected[0] || addr[1] !== connected[1])) {
        throw new InvalidAddressError(
          `${addr[0]}:${addr[1]}`,
          `this UDP port is connected to ${connected[0]}:${connected[1]} and writes only there`,
        );
      }
      this.#network.sendDatagram(this, packet, connected[0], connected[1]);
      return;
    }
    if (addr === undefined) {
      throw new InvalidAddressError(
        undefined,
        'write() needs an address [host, port] on a UDP port that is not connected',
      );
    }
    let host = addr[0];
    const port = addr[1];
    if (host === '<broadcast>') host = '255.255.255.255';
    else checkIPv4(host, 'write()');
    if (!isPeerPort(port)) {
      throw new InvalidAddressError(port, 'a port to write to must be an integer from 1 to 65535');
    }
    if (host === '255.255.255.255' && !this.#broadcast) {
      this.#network.record('udp-drop', {
        host: this.#host.name,
        from: this.port,
        to: `${host}:${port}`,
        reason: 'broadcast-not-allowed',
      });
      log.warn('UDP port {port}: send EACCES {to} (broadcast not allowed)', {
        port: this.port,
        to: `${host}:${port}`,
      });
      return;
    }
    this.#network.sendDatagram(this, packet, host, port);
  }

  /**
   * Ties the port to one peer.
   *
   * @throws InvalidAddressError for a host name or a bad port; Error if
   *   connected already; NotListeningError once stopped.
   */
  connect(host: string, port: number): void {
    if (!this.listening) {
      throw new NotListeningError('cannot connect: the UDP port is not listening');
    }
    if (this.#connected !== undefined) {
      throw new Error('already connected, reconnecting is not currently supported');
    }
    checkIPv4(host, 'connect()');
    if (!isPeerPort(port)) {
      throw new InvalidAddressError(
        port,
        'a port to connect to must be an integer from 1 to 65535',
      );
    }
    this.#connected = [host, port];
  }

  /** Allows or forbids sending to the broadcast address. */
  setBroadcastAllowed(enabled: boolean): void {
    if (!this.listening) {
      throw new NotListeningError('setBroadcastAllowed: the UDP port is not listening');
    }
    this.#broadcast = enabled;
  }

  /** Whether sending to the broadcast address is allowed; false at first. */
  getBroadcastAllowed(): boolean {
    return this.#broadcast;
  }

  /** `<Echo on server:9>`. */
  toString(): string {
    const name = this.protocol.constructor.name;
    return this.listening
      ? `<${name} on ${this.#host.name}:${this.port}>`
      : `<${name} not connected>`;
  }

  /**
   * @internal Whether a datagram from `address:port` may be delivered (a
   * connected port takes only its peer's).
   */
  accepts(address: string, port: number): boolean {
    const connected = this.#connected;
    return connected === undefined || (connected[0] === address && connected[1] === port);
  }

  /** @internal A datagram arrived. */
  deliver(data: Uint8Array, address: string, port: number): void {
    const packet =
      data.byteLength > this.maxPacketSize ? data.subarray(0, this.maxPacketSize) : data;
    try {
      this.protocol.datagramReceived(packet, [address, port]);
    } catch (error) {
      this.#failed(error, 'datagramReceived');
    }
  }

  /** @internal An ICMP port unreachable about `address:port` arrived. */
  unreachable(address: string, port: number): boolean {
    const connected = this.#connected;
    if (!this.listening || connected === undefined) return false;
    if (connected[0] !== address || connected[1] !== port) return false;
    try {
      this.protocol.connectionRefused();
    } catch (error) {
      this.#failed(error, 'connectionRefused');
    }
    return true;
  }

  /** @internal The host crashed: gone, with no callback. */
  vanish(): void {
    this.#listening = false;
    this.#connected = undefined;
  }

  #closed(): void {
    this.#listening = false;
    this.#connected = undefined;
    try {
      if (typeof this.protocol.doStop === 'function') this.protocol.doStop();
      else this.protocol.stopProtocol();
    } catch (error) {
      this.#failed(error, 'doStop');
    }
    const closing = this.#closing;
    this.#closing = undefined;
    if (closing !== undefined && !closing.called) closing.callback(undefined);
  }

  #failed(error: unknown, method: string): void {
    this.#network.callbackFailed(error);
    log.failure('Unhandled error in {protocol}.{method} on {host}', error, {
      protocol: this.protocol.constructor.name,
      method,
      host: this.#host.name,
    });
  }
}

function isPeerPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535;
}

function checkIPv4(host: unknown, method: string): void {
  if (typeof host !== 'string' || !isIPv4(host)) {
    throw new InvalidAddressError(
      host,
      `${method} only accepts IPv4 addresses on a simulated host, not hostnames`,
    );
  }
}

/** Whether `text` is a dotted-quad IPv4 address (without node:net). */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return (
    parts.length === 4 &&
    parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)
  );
}
