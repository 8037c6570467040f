// Internal: a splice of two connections, bytes passed raw both ways with
// backpressure and half-close, for a CONNECT tunnel and an Upgrade
// (WebSocket) passthrough. Each side is a TunnelEnd protocol; the server
// side gets its connection from HTTPChannel._takeOver.
// Tests: test/unit/web/proxy/tunnel.test.ts, test/integration/web/proxy-reverse.test.ts
//
// Use:
//   const [client, upstream] = TunnelEnd.pair(onClosed?);
//   // connect the upstream with a factory that builds `upstream` …
//   const rest = request.channel._takeOver(request, client);  // transport left paused
//   client.makeConnection(request.transport);
//   upstream.transport.write(rest);                             // what the client sent ahead
//   client.transport.resumeProducing();

import type { Failure } from '../../internet/failure.js';
import type {
  IHalfCloseableProtocol,
  IPushProducer,
  ITCPTransport,
} from '../../internet/interfaces.js';
import { Protocol } from '../../internet/protocol.js';

/**
 * One side of a tunnel: what arrives on its connection is written to the
 * other side's. Each side is registered as a streaming producer on the
 * other's transport, so a side whose peer cannot keep up stops reading.
 * A side that finishes sending half-closes the other's writing; when a
 * connection closes, the other is closed after what it has to write.
 */
export class TunnelEnd
  extends Protocol<ITCPTransport>
  implements IHalfCloseableProtocol, IPushProducer
{
  /** The other side. */
  peer: TunnelEnd | undefined;
  /** Whether this side's connection has closed. */
  closed = false;
  /** Whether this side has finished sending (its read half closed). */
  readClosed = false;
  readonly #onClosed: (() => void) | undefined;
  #paused = false;

  constructor(onClosed?: () => void) {
    super();
    this.#onClosed = onClosed;
  }

  /** Two sides spliced to each other; `onClosed` runs once both connections have closed. */
  static pair(onClosed?: () => void): [TunnelEnd, TunnelEnd] {
    let open = 2;
    const closed =
      onClosed === undefined
        ? undefined
        : () => {
            open--;
            if (open === 0) onClosed();
          };
    const a = new TunnelEnd(closed);
    const b = new TunnelEnd(closed);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  /** Registers this side as the producer of the peer's writes once both are connected. */
  override connectionMade(): void {
    const peer = this.peer;
    if (peer === undefined || !peer.connected) return;
    // Whichever connects second links both ways.
    this.transport.registerProducer(peer, true);
    peer.transport.registerProducer(this, true);
  }

  /** Bytes from this side go to the other. */
  override dataReceived(data: Uint8Array): void {
    const peer = this.peer;
    if (peer === undefined || !peer.connected || peer.closed) return;
    peer.transport.write(data);
  }

  /** This side finished sending: the other side's writing is finished too. */
  readConnectionLost(): void {
    this.readClosed = true;
    const peer = this.peer;
    if (peer === undefined || !peer.connected || peer.closed) {
      this.transport.loseConnection();
      return;
    }
    if (peer.readClosed) {
      // Both have finished sending: nothing more will pass.
      peer.transport.loseConnection();
      this.transport.loseConnection();
      return;
    }
    peer.transport.loseWriteConnection();
  }

  /** Nothing to do: the peer decides when this side's connection ends. */
  writeConnectionLost(): void {}

  /** This side closed: the other closes after what it still has to write. */
  override connectionLost(_reason?: Failure): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    const peer = this.peer;
    if (peer?.connected === true && !peer.closed) {
      try {
        peer.transport.unregisterProducer();
      } catch {
        // Not registered (the tunnel never linked).
      }
      peer.transport.loseConnection();
    }
    this.#onClosed?.();
  }

  // IPushProducer, registered on the peer's transport: pause this side's reading.
  pauseProducing(): void {
    if (this.#paused || this.closed || !this.connected) return;
    this.#paused = true;
    this.transport.pauseProducing();
  }

  resumeProducing(): void {
    if (!this.#paused || this.closed || !this.connected) return;
    this.#paused = false;
    this.transport.resumeProducing();
  }

  stopProducing(): void {
    if (this.closed || !this.connected) return;
    this.transport.loseConnection();
  }
}
