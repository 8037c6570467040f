// LimitConnectionsByPeer and LimitTotalConnectionsFactory: connection
// limits per peer host and in total (Twisted: twisted.protocols.policies).
// Tests: test/unit/protocols/policies-limits.test.ts

import type { IAddress, IProtocol } from '../../internet/interfaces.js';
import type { ProtocolClass } from '../../internet/protocol.js';
import { type ProtocolWrapper, type WrappedFactory, WrappingFactory } from './wrapper.js';

/** Options of {@link LimitConnectionsByPeer}. */
export interface LimitConnectionsByPeerOptions {
  /** Most connections open at once from one peer host. @defaultValue 5 */
  maxConnectionsPerPeer?: number | undefined;
}

/** The host part of an address (its `host`), or the whole address for those without one. */
function peerHostOf(addr: IAddress): string {
  const host = (addr as { host?: unknown }).host;
  return typeof host === 'string' ? host : String(addr);
}

/**
 * Limits how many connections one peer host may have open at once.
 *
 * @remarks
 * Connections are counted by the peer's host (an `IPv4Address`'s or
 * `IPv6Address`'s `host`; other addresses by their whole text). A peer
 * with `maxConnectionsPerPeer` connections open is refused more until one
 * is lost.
 *
 * Differences from Twisted: the count is kept from construction (Twisted
 * clears it in `startFactory`), is keyed by the address's `host` (Twisted's
 * code indexes a tuple), and a lost connection also leaves
 * {@link WrappingFactory.protocols}.
 *
 * @see Twisted: twisted.protocols.policies.LimitConnectionsByPeer
 * @since 0.1.0
 */
export class LimitConnectionsByPeer extends WrappingFactory {
  /** Most connections open at once from one peer host. */
  maxConnectionsPerPeer: number;
  /** Open connections per peer host; hosts with none are absent. */
  readonly peerConnections: Map<string, number> = new Map();
  // The host each counted wrapper was counted under.
  readonly #hostOf = new WeakMap<ProtocolWrapper, string>();

  /**
   * @param wrappedFactory - The factory whose connections are limited.
   * @param options - See {@link LimitConnectionsByPeerOptions}.
   */
  constructor(wrappedFactory: WrappedFactory, options: LimitConnectionsByPeerOptions = {}) {
    super(wrappedFactory);
    this.maxConnectionsPerPeer = options.maxConnectionsPerPeer ?? 5;
  }

  /**
   * Builds a connection, or refuses one from a peer host that has
   * `maxConnectionsPerPeer` open.
   *
   * @param addr - The peer's address.
   * @returns The wrapper, or `null` if the connection is refused.
   */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    const peerHost = peerHostOf(addr);
    const count = this.peerConnections.get(peerHost) ?? 0;
    if (count >= this.maxConnectionsPerPeer) return null;
    const protocol = super.buildProtocol(addr);
    if (protocol === null) return null;
    this.peerConnections.set(peerHost, count + 1);
    this.#hostOf.set(protocol, peerHost);
    return protocol;
  }

  /** Forgets a lost connection and takes it off its peer's count. */
  override unregisterProtocol(protocol: ProtocolWrapper): void {
    super.unregisterProtocol(protocol);
    const peerHost = this.#hostOf.get(protocol);
    if (peerHost === undefined) return;
    this.#hostOf.delete(protocol);
    const count = (this.peerConnections.get(peerHost) ?? 1) - 1;
    if (count <= 0) this.peerConnections.delete(peerHost);
    else this.peerConnections.set(peerHost, count);
  }
}

/** Options of {@link LimitTotalConnectionsFactory}. */
export interface LimitTotalConnectionsFactoryOptions {
  /** Most connections open at once. @defaultValue no limit */
  connectionLimit?: number | undefined;
  /**
   * The protocol for connections beyond the limit (to say "busy", say);
   * without one they are refused.
   * @defaultValue none
   */
  overflowProtocol?: ProtocolClass | undefined;
}

/**
 * Limits how many connections are open at once.
 *
 * @remarks
 * Below `connectionLimit`, connections get the wrapped factory's protocol.
 * Beyond it, they get a new `overflowProtocol` (whose `factory` is this
 * factory), or are refused if there is none. Overflow connections count
 * too.
 *
 * Differences from Twisted: this factory wraps a factory, as the other
 * policies do (Twisted's is a `ServerFactory` with a `protocol` attribute).
 *
 * @see Twisted: twisted.protocols.policies.LimitTotalConnectionsFactory
 * @since 0.1.0
 */
export class LimitTotalConnectionsFactory extends WrappingFactory {
  /** Connections built and not yet lost, overflow ones included. */
  connectionCount = 0;
  /** Most connections open at once, or `undefined` for no limit. */
  connectionLimit: number | undefined;
  /** The protocol for connections beyond the limit, or `undefined` to refuse them. */
  overflowProtocol: ProtocolClass | undefined;

  /**
   * @param wrappedFactory - The factory whose connections are limited.
   * @param options - See {@link LimitTotalConnectionsFactoryOptions}.
   */
  constructor(wrappedFactory: WrappedFactory, options: LimitTotalConnectionsFactoryOptions = {}) {
    super(wrappedFactory);
    this.connectionLimit = options.connectionLimit;
    this.overflowProtocol = options.overflowProtocol;
  }

  /**
   * Builds the wrapped factory's protocol below the limit, the overflow
   * protocol beyond it, or refuses the connection.
   *
   * @param addr - The address of the other end.
   * @returns The wrapper, or `null` if the connection is refused.
   */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    let wrapped: IProtocol | null;
    if (this.connectionLimit === undefined || this.connectionCount < this.connectionLimit) {
      wrapped = this.wrappedFactory.buildProtocol(addr);
    } else if (this.overflowProtocol === undefined) {
      return null;
    } else {
      wrapped = new this.overflowProtocol();
      (wrapped as { factory?: unknown }).factory = this;
    }
    if (wrapped === null) return null;
    this.connectionCount++;
    return this.wrapProtocol(wrapped, addr);
  }

  /** Forgets a lost connection and takes it off the count. */
  override unregisterProtocol(protocol: ProtocolWrapper): void {
    super.unregisterProtocol(protocol);
    this.connectionCount--;
  }
}
