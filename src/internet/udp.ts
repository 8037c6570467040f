// UDP over node:dgram: the port that is both the listening port and the
// datagram transport, with multicast and broadcast. The only user of
// node:dgram. (Twisted: twisted.internet.udp.Port and MulticastPort)
// Tests: test/integration/udp.test.ts, test/integration/udp-multicast.test.ts, test/unit/internet/udp.test.ts

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { Logger } from '../logger/logger.js';
import { bindMethods } from './_bind.js';
import type { SocketHost } from './_stream-transport.js';
import { type IPAddress, IPv4Address, IPv6Address } from './address.js';
import { Deferred, fail, succeed } from './defer.js';
import {
  CannotListenError,
  type ConnectionLost,
  InvalidAddressError,
  MessageLengthError,
  MulticastJoinError,
  NotListeningError,
} from './error.js';
import type {
  IDatagramProtocol,
  IListeningPort,
  IMulticastTransport,
  ListenMulticastOptions,
} from './interfaces.js';

const log = new Logger('torsion.internet.udp');

/** The largest UDP payload: 65535 less the IPv4 (20) and UDP (8) headers. */
const MAX_IPV4_DATAGRAM = 65507;
/** The largest UDP payload over IPv6: the IPv6 payload length (65535) less the UDP header. */
const MAX_IPV6_DATAGRAM = 65527;

/** What a port needs of the reactor besides time and shutdown tracking. */
export interface UDPHost extends SocketHost {
  /** Resolves a host name to an IPv4 address (for multicast groups given by name). */
  resolve(name: string): Deferred<string>;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void;

/**
 * dgram's address lookup, answered at once: every address reaching Node is
 * an IP address already (checked by the port), so no DNS is needed, and
 * answering synchronously makes `bind`, `connect` and `send` synchronous.
 */
function ipLookup(address: string, _family: unknown, callback: LookupCallback): void {
  const family = isIP(address);
  if (family === 0) {
    const error: NodeJS.ErrnoException = new Error(`${address} is not an IP address`);
    error.code = 'EINVAL';
    callback(error, '', 0);
  } else {
    callback(null, address, family);
  }
}

/** Whether `port` is a port number one can send to. */
function isPeerPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535;
}

/**
 * A UDP socket: the listening port and the protocol's transport at once, as
 * in Twisted.
 *
 * @remarks
 * Binding is synchronous: dgram looks the interface up with the `lookup`
 * function its socket was created with, and this port's answers at once
 * (only IP addresses are accepted), so `bind` finishes, or emits its error,
 * before it returns. Both are public dgram behaviour. `getHost()` is known
 * as soon as `listenUDP` returns, even for port 0, and a bind error is
 * thrown as {@link CannotListenError}. Should a future Node bind on a later
 * turn all the same, `startListening` closes the socket and throws
 * `CannotListenError` saying so, rather than hand out a port whose address
 * is not known yet.
 *
 * @internal Created by `listenUDP` and `listenMulticast`; callers see an
 *   `IListeningPort` that is an `IMulticastTransport`.
 */
export class UDPPort implements IListeningPort<IPAddress>, IMulticastTransport {
  readonly #host: UDPHost;
  readonly #port: number;
  readonly #interface: string;
  readonly #family: 4 | 6;
  readonly #maxPacketSize: number;
  readonly #reuseAddr: boolean;
  readonly #protocol: IDatagramProtocol;
  #socket: Socket | undefined;
  #address: IPAddress | undefined;
  #connected: [string, number] | undefined;
  #closing: Deferred<void> | undefined;
  /** The peer host last checked by `write`, so that a stream of datagrams to one peer checks it once. */
  #checkedHost: string | undefined;
  #broadcast = false;
  #ttl = 1;
  #loopback = true;
  #outgoing: string;

  constructor(
    host: UDPHost,
    port: number,
    protocol: IDatagramProtocol,
    options: ListenMulticastOptions = {},
  ) {
    const what = options.listenMultiple === undefined ? 'listenUDP' : 'listenMulticast';
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidAddressError(port, 'a port must be an integer from 0 to 65535');
    }
    const iface = options.interface ?? '';
    const family = iface === '' ? 4 : isIP(iface);
    if (family === 0) {
      throw new InvalidAddressError(iface, `${what} needs an IP address as its interface`);
    }
    const maxPacketSize = options.maxPacketSize ?? 8192;
    if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1) {
      throw new RangeError(
        `${what}: maxPacketSize must be a positive integer, got ${String(maxPacketSize)}`,
      );
    }
    this.#host = host;
    this.#port = port;
    this.#interface = iface;
    this.#family = family === 6 ? 6 : 4;
    this.#maxPacketSize = maxPacketSize;
    this.#reuseAddr = options.listenMultiple ?? false;
    this.#protocol = protocol;
    this.#outgoing = this.#family === 4 ? '0.0.0.0' : '::';
    bindMethods(this, ['stopListening', 'write']);
  }

  /**
   * Binds the socket and starts the protocol (its `startProtocol` runs
   * before this returns). Does nothing if listening already.
   *
   * @throws {@link CannotListenError} if the address cannot be bound (in
   *   use, not local, not permitted).
   */
  startListening(): void {
    if (this.#socket !== undefined) return;
    const socket = createSocket({
      type: this.#family === 6 ? 'udp6' : 'udp4',
      lookup: ipLookup,
      reuseAddr: this.#reuseAddr,
    });
    let bindError: Error | undefined;
    const captureBindError = (error: Error): void => {
      bindError ??= error;
    };
    socket.on('error', captureBindError);
    let bound = false;
    socket.once('listening', () => {
      bound = true;
    });
    const address = this.#interface === '' ? '0.0.0.0' : this.#interface;
    try {
      // exclusive: a node:cluster worker binds its own socket too, at once,
      // instead of asking the primary for a shared one on a later turn.
      socket.bind({ port: this.#port, address, exclusive: true });
    } catch (error) {
      bindError ??= error instanceof Error ? error : new Error(String(error));
    }
    socket.removeListener('error', captureBindError);
    if (bindError === undefined && !bound) {
      bindError = new Error('the socket did not bind at once, and Node reported no error');
    }
    if (bindError !== undefined) {
      socket.on('error', () => undefined);
      socket.close();
      const code = (bindError as NodeJS.ErrnoException).code ?? bindError.message;
      throw new CannotListenError(this.#interface, this.#port, code, { cause: bindError });
    }
    socket.on('error', this.#onError);
    socket.on('message', this.#onMessage);
    this.#socket = socket;
    this.#connected = undefined;
    this.#checkedHost = undefined;
    const local = socket.address();
    this.#address =
      local.family === 'IPv6'
        ? new IPv6Address('UDP', local.address, local.port)
        : new IPv4Address('UDP', local.address, local.port);
    this.#host.track(this);
    log.info('{protocol} starting on {port}', {
      protocol: this.#protocol.constructor.name,
      port: local.port,
    });
    try {
      this.#protocol.makeConnection(this);
    } catch (error) {
      log.failure('Error starting {protocol} on {port}', error, {
        protocol: this.#protocol.constructor.name,
        port: local.port,
      });
    }
  }

  /**
   * Closes the socket; the protocol's `stopProtocol` runs on a later turn
   * of the loop, never from within this call.
   *
   * @returns A Deferred that fires once the socket is closed (at once if it
   *   was not listening).
   *
   * Cancellation: closing cannot be stopped; cancelling fails the Deferred
   * with `CancelledError` and the socket still closes.
   */
  stopListening(): Deferred<void> {
    if (this.#closing !== undefined) {
      const closing = this.#closing;
      const d = new Deferred<void>();
      closing.addBoth(() => {
        if (!d.called) d.callback(undefined);
      });
      return d;
    }
    const socket = this.#socket;
    if (socket === undefined) return succeed(undefined);
    const d = new Deferred<void>();
    this.#closing = d;
    socket.removeListener('message', this.#onMessage);
    // dgram calls back on a later tick: stopProtocol is not re-entrant.
    socket.close(() => this.#closed());
    return d;
  }

  /**
   * Closes at once (the reactor is shutting down); `stopProtocol` runs
   * before this returns.
   *
   * @internal
   */
  disconnectNow(_reason: ConnectionLost): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#closing ??= new Deferred<void>();
    socket.removeListener('message', this.#onMessage);
    try {
      socket.close();
    } catch {
      // Closed already (a close in progress): nothing more to do.
    }
    this.#closed();
  }

  #closed(): void {
    if (this.#socket === undefined) return;
    this.#socket = undefined;
    this.#connected = undefined;
    this.#host.untrack(this);
    log.info('(UDP Port {port} Closed)', { port: this.#address?.port ?? this.#port });
    try {
      if (typeof this.#protocol.doStop === 'function') this.#protocol.doStop();
      else this.#protocol.stopProtocol();
    } catch (error) {
      log.failure('Error stopping {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
    const closing = this.#closing;
    this.#closing = undefined;
    if (closing !== undefined && !closing.called) closing.callback(undefined);
  }

  /**
   * The bound address: a `UDP` address with the port chosen for port 0.
   *
   * @throws {@link NotListeningError} if the port was never bound.
   */
  getHost(): IPAddress {
    if (this.#address === undefined) throw new NotListeningError('the UDP port is not bound');
    return this.#address;
  }

  // IUDPTransport

  /**
   * Sends one datagram.
   *
   * @remarks
   * A datagram goes whole or not at all: one larger than UDP can carry is
   * refused here. The peer is given by IP address only (no DNS on the
   * send path, as in Twisted); `'<broadcast>'` means 255.255.255.255 on an
   * IPv4 port. An error the system reports after this returns (no route,
   * broadcast not allowed, …) is logged with its cause; on a connected
   * port, a refusal (an ICMP port unreachable) calls the protocol's
   * `connectionRefused` instead.
   *
   * @param packet - The datagram.
   * @param addr - `[host, port]`; left out (or the peer itself) once connected.
   * @throws TypeError if `packet` is not a Uint8Array;
   *   {@link InvalidAddressError} for a host name, an address of the other
   *   IP family, a bad port, a missing address, or an address other than
   *   the connected peer's; {@link MessageLengthError} if the datagram is too
   *   long; {@link NotListeningError} once the port has stopped.
   */
  write(packet: Uint8Array, addr?: readonly [string, number]): void {
    if (!(packet instanceof Uint8Array)) {
      throw new TypeError(`write() expects Uint8Array, got ${typeof packet}`);
    }
    const socket = this.#socket;
    if (socket === undefined || this.#closing !== undefined) {
      throw new NotListeningError('cannot write: the UDP port is not listening');
    }
    if (packet.byteLength > (this.#family === 4 ? MAX_IPV4_DATAGRAM : MAX_IPV6_DATAGRAM)) {
      throw new MessageLengthError(
        `message too long: ${packet.byteLength} bytes, at most ${this.#family === 4 ? MAX_IPV4_DATAGRAM : MAX_IPV6_DATAGRAM} over IPv${this.#family}`,
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
      socket.send(packet, this.#onSent);
      return;
    }
    if (addr === undefined) {
      throw new InvalidAddressError(
        undefined,
        'write() needs an address [host, port] on a UDP port that is not connected',
      );
    }
    let [host, port] = addr;
    if (host !== this.#checkedHost) {
      if (host === '<broadcast>' && this.#family === 4) host = '255.255.255.255';
      else this.#checkHost(host, 'write()');
      if (host === addr[0]) this.#checkedHost = host;
    }
    if (!isPeerPort(port)) {
      throw new InvalidAddressError(port, 'a port to write to must be an integer from 1 to 65535');
    }
    socket.send(packet, port, host, this.#onSent);
  }

  /**
   * Connects the socket to one peer: datagrams from others are dropped,
   * `write` needs no address, and a refusal from the peer calls the
   * protocol's `connectionRefused`.
   *
   * @param host - The peer's IP address (no host names, as in Twisted).
   * @param port - The peer's port.
   * @throws {@link InvalidAddressError} for a host name, an address of the
   *   other family or a bad port; `Error` if connected already (reconnecting
   *   is not supported, as in Twisted); {@link NotListeningError} once stopped.
   */
  connect(host: string, port: number): void {
    const socket = this.#socket;
    if (socket === undefined)
      throw new NotListeningError('cannot connect: the UDP port is not listening');
    if (this.#connected !== undefined) {
      throw new Error('already connected, reconnecting is not currently supported');
    }
    this.#checkHost(host, 'connect()');
    if (!isPeerPort(port)) {
      throw new InvalidAddressError(
        port,
        'a port to connect to must be an integer from 1 to 65535',
      );
    }
    // With the synchronous lookup, dgram is connected when this returns; a
    // system error comes as an 'error' event (logged).
    socket.connect(port, host);
    this.#connected = [host, port];
  }

  /** Allows or forbids sending to broadcast addresses (`SO_BROADCAST`). */
  setBroadcastAllowed(enabled: boolean): void {
    this.#live('setBroadcastAllowed').setBroadcast(enabled);
    this.#broadcast = enabled;
  }

  /** Whether sending to broadcast addresses is allowed; false at first. */
  getBroadcastAllowed(): boolean {
    return this.#broadcast;
  }

  // IMulticastTransport

  /** The interface multicast datagrams go out of: `'0.0.0.0'` (or `'::'`) is the system's choice. */
  getOutgoingInterface(): string {
    return this.#outgoing;
  }

  /**
   * Sends multicast datagrams out of the interface with address `addr`.
   *
   * @returns A Deferred that fires once set, or fails with the system's
   *   error (or {@link InvalidAddressError} for a name that is not an IP
   *   address of this port's family).
   */
  setOutgoingInterface(addr: string): Deferred<void> {
    try {
      // An IPv6 interface may carry a scope (`::%eth0`), which isIP accepts.
      this.#checkHost(addr, 'setOutgoingInterface()');
      this.#live('setOutgoingInterface').setMulticastInterface(addr);
    } catch (error) {
      return fail(error);
    }
    this.#outgoing = addr;
    return succeed(undefined);
  }

  /** Whether this host's own multicast datagrams come back to it; true at first. */
  getLoopbackMode(): boolean {
    return this.#loopback;
  }

  /** Sets whether this host's own multicast datagrams come back to it. */
  setLoopbackMode(mode: boolean): void {
    this.#live('setLoopbackMode').setMulticastLoopback(mode);
    this.#loopback = mode;
  }

  /** The time-to-live of multicast datagrams sent; 1 at first. */
  getTTL(): number {
    return this.#ttl;
  }

  /**
   * Sets the time-to-live (hop limit) of multicast datagrams sent.
   *
   * @throws RangeError unless `ttl` is an integer from 0 to 255.
   */
  setTTL(ttl: number): void {
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) {
      throw new RangeError(`setTTL: a TTL must be an integer from 0 to 255, got ${String(ttl)}`);
    }
    this.#live('setTTL').setMulticastTTL(ttl);
    this.#ttl = ttl;
  }

  /**
   * Joins the multicast group `addr`.
   *
   * @param addr - The group's address; a host name is resolved (IPv4).
   * @param iface - The address of the local interface to join on; `''` (the
   *   default) lets the system choose.
   * @returns A Deferred that fires once joined, or fails with
   *   {@link MulticastJoinError} naming the group and the system's reason.
   */
  joinGroup(addr: string, iface = ''): Deferred<void> {
    return this.#membership(addr, iface, true);
  }

  /**
   * Leaves the multicast group `addr`.
   *
   * @returns A Deferred that fires once left, or fails with
   *   {@link MulticastJoinError} (for instance if the group was not joined).
   */
  leaveGroup(addr: string, iface = ''): Deferred<void> {
    return this.#membership(addr, iface, false);
  }

  /** `<Echo on 5353>` (the protocol's class and the port), or `<Echo not connected>`, as Twisted's repr. */
  toString(): string {
    const name = this.#protocol.constructor.name;
    return this.#socket === undefined
      ? `<${name} not connected>`
      : `<${name} on ${this.#address?.port ?? this.#port}>`;
  }

  #membership(addr: string, iface: string, join: boolean): Deferred<void> {
    const group = isIP(addr) === 0 ? this.#host.resolve(addr) : succeed(addr);
    return group.addCallback((resolved) => {
      try {
        const socket = this.#live(join ? 'joinGroup' : 'leaveGroup');
        if (join) socket.addMembership(resolved, iface === '' ? undefined : iface);
        else socket.dropMembership(resolved, iface === '' ? undefined : iface);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new MulticastJoinError(addr, iface, `${join ? 'join' : 'leave'} ${reason}`, {
          cause: error,
        });
      }
    });
  }

  /** The socket, or a clear error if the port is not listening. */
  #live(method: string): Socket {
    if (this.#socket === undefined || this.#closing !== undefined) {
      throw new NotListeningError(`${method}: the UDP port is not listening`);
    }
    return this.#socket;
  }

  #checkHost(host: unknown, method: string): void {
    const family = typeof host === 'string' ? isIP(host) : 0;
    if (family === 0) {
      throw new InvalidAddressError(host, `${method} only accepts IP addresses, not hostnames`);
    }
    if (family !== this.#family) {
      throw new InvalidAddressError(
        host,
        `IPv${this.#family} port ${method} called with an IPv${family} address`,
      );
    }
  }

  // Arrow functions: dgram calls them unbound, once per datagram.
  readonly #onMessage = (data: Buffer, info: RemoteInfo): void => {
    // Twisted reads with recvfrom(maxPacketSize): the rest of a longer datagram is lost.
    const packet = data.length > this.#maxPacketSize ? data.subarray(0, this.#maxPacketSize) : data;
    try {
      this.#protocol.datagramReceived(packet, [info.address, info.port]);
    } catch (error) {
      log.failure('Unhandled error in {protocol}.datagramReceived', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
  };

  readonly #onSent = (error: Error | null): void => {
    if (error !== null) this.#onError(error);
  };

  readonly #onError = (error: Error): void => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') {
      // An ICMP port unreachable, reported on the next read or send. Only a
      // connected socket knows whom it is about (as in Twisted).
      if (this.#connected === undefined || this.#socket === undefined) return;
      try {
        this.#protocol.connectionRefused();
      } catch (callbackError) {
        log.failure('Unhandled error in {protocol}.connectionRefused', callbackError, {
          protocol: this.#protocol.constructor.name,
        });
      }
      return;
    }
    log.failure('UDP port {port}: {message}', error, {
      port: this.#address?.port ?? this.#port,
      message: error.message,
      level: 'warn',
    });
  };
}
