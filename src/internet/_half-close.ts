// The one rule deciding whether a protocol half-closes: every transport
// (TCP, UNIX, TLS, the in-memory pump, wrappers) asks this function, so a
// protocol behaves the same over real sockets and in tests.
// Tests: test/unit/internet/half-close.test.ts

import type { IHalfCloseableProtocol, IProtocol } from './interfaces.js';

/**
 * A protocol that handles the peer's end of sending by itself:
 * `readConnectionLost` is there, `writeConnectionLost` may be.
 *
 * @internal
 */
export type HalfCloseableProtocol = IProtocol &
  Pick<IHalfCloseableProtocol, 'readConnectionLost'> &
  Partial<Pick<IHalfCloseableProtocol, 'writeConnectionLost'>>;

/**
 * Whether `protocol` half-closes: it has a `readConnectionLost` method.
 *
 * @remarks
 * `readConnectionLost` decides what happens when the peer finishes sending
 * (FIN): with it, the protocol is told and the connection stays open for
 * writing; without it, the transport closes the whole connection after what
 * is buffered. `writeConnectionLost`, when present, is called once this
 * side's `loseWriteConnection` has taken effect; it is not needed to count
 * as half-closeable (call it as `protocol.writeConnectionLost?.()`).
 *
 * Differences from Twisted: Twisted asks whether the protocol *declares*
 * `IHalfCloseableProtocol`; TypeScript interfaces leave no trace at run
 * time, so the method that the peer's FIN calls decides.
 *
 * @param protocol - Any protocol.
 * @returns Whether the transport should call `readConnectionLost` on the
 *   peer's FIN instead of closing.
 * @see Twisted: twisted.internet.interfaces.IHalfCloseableProtocol
 * @internal
 */
export function isHalfCloseable(protocol: IProtocol): protocol is HalfCloseableProtocol {
  return typeof (protocol as Partial<IHalfCloseableProtocol>).readConnectionLost === 'function';
}
