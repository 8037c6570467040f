// The simulated TCP connection: segments (SYN, SYN-ACK, data, FIN, RST) and
// the transport each end's protocol sees, with the contract of the real
// StreamTransport (clean close, abort, half-close, producers, read pausing)
// over a lossy, reordering, partitionable network.
// Tests: test/unit/testing/simulation-core.test.ts, test/integration/conformance/transports.test.ts,
// test/unit/testing/simulation-proxy.test.ts

import { bindMethods, TRANSPORT_METHODS } from '../../internet/_bind.js';
import { isHalfCloseable } from '../../internet/_half-close.js';
import {
  DEFAULT_WRITE_HIGH,
  DEFAULT_WRITE_LOW,
  resolveWriteBufferLimits,
} from '../../internet/_write-limits.js';
import type { IPv4Address } from '../../internet/address.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  IAddress,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  IWriteBufferLimits,
  WriteBufferLimitOptions,
  WriteBufferLimits,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { checkByteSequence, checkBytes } from '../_bytes.js';
import { type EventQueue, SimEvent, type Task } from './_events.js';
import type { SimulatedHost } from './host.js';

const log = new Logger('torsion.testing.simulation');

/** Segment kinds. @internal */
export const SYN = 0;
/** @internal */
export const SYNACK = 1;
/** @internal */
export const DATA = 2;
/** @internal */
export const FIN = 3;
/** @internal */
export const RST = 4;

/** The kinds by number, for the trace. @internal */
export const KIND_NAMES = ['syn', 'synack', 'data', 'fin', 'rst'] as const;

/** Seconds a closing side waits for the peer's FIN before closing anyway (as StreamTransport). */
const CLOSE_GRACE = 10;

/**
 * One direction's conditions between two hosts.
 *
 * @internal
 */
export interface LinkState {
  latency: number;
  jitter: number;
  loss: number;
  bandwidth: number;
  mtu: number;
  /** When the link has finished sending what it was given (bandwidth). */
  busyUntil: number;
  /** Cut by a partition. */
  partitioned: boolean;
}

/**
 * What the transport needs of the network.
 *
 * @internal
 */
export interface Wire {
  readonly queue: EventQueue;
  now(): number;
  /** Puts a segment on the wire for the first time. */
  send(segment: Segment): void;
  /** Runs `fn` at the current time (later in this instant), unless `host` crashes first. */
  soon(host: SimulatedHost, fn: () => void): Task;
  /** Runs `fn` after `delay`, unless `host` crashes first. */
  later(host: SimulatedHost, delay: number, fn: () => void): Task;
  /** The link from one host to another. */
  linkBetween(from: SimulatedHost, to: SimulatedHost | undefined): LinkState;
  /** Bytes a sender may have in flight before its transport counts them as buffered. */
  readonly socketBuffer: number;
  /** A protocol callback threw. */
  callbackFailed(error: unknown): void;
  /** A connection was made or lost (for `connections`). */
  connectionOpened(connection: SimulatedConnection): void;
  connectionClosed(connection: SimulatedConnection): void;
}

/**
 * A segment on the wire: an event that fires when it arrives (or when the
 * sender retransmits it).
 *
 * @internal
 */
export class Segment extends SimEvent {
  /** Number of transmissions so far. */
  attempts = 1;
  firstSent = 0;
  sentAt = 0;
  /** The next firing is a retransmission, not an arrival. */
  retransmitting = false;
  readonly srcIncarnation: number;

  constructor(
    readonly wire: SegmentHandler,
    readonly kind: number,
    readonly src: SimulatedHost,
    readonly dst: SimulatedHost | undefined,
    readonly link: LinkState,
    /** The sending transport (data, FIN, RST, SYN-ACK). */
    readonly sender: SimulatedTransport | undefined,
    /** The receiving transport, when known. */
    readonly receiver: SimulatedTransport | undefined,
    readonly index: number,
    readonly data: Uint8Array | undefined,
    /** For SYN and its RST: the attempt. */
    readonly attempt: unknown,
  ) {
    super();
    this.srcIncarnation = src.incarnation;
  }

  fire(): void {
    this.wire.segmentFired(this);
  }
}

/** Where segments go when they fire. @internal */
export interface SegmentHandler {
  segmentFired(segment: Segment): void;
}

/**
 * A simulated TCP connection: the two transports.
 *
 * @since 0.1.0
 */
export class SimulatedConnection {
  /** A number unique within the network. */
  readonly id: number;
  /** The connecting side's transport. */
  readonly client: SimulatedTransport;
  /** The accepting side's transport. */
  readonly server: SimulatedTransport;

  /** @internal */
  constructor(id: number, client: SimulatedTransport, server: SimulatedTransport) {
    this.id = id;
    this.client = client;
    this.server = server;
  }

  /** `sim#3 client:10.0.0.1:49152 -> server:10.0.0.2:80`. */
  toString(): string {
    return `sim#${this.id} ${this.client.label} -> ${this.server.label}`;
  }
}

/**
 * Builds a protocol; a throw is logged and counts as a refusal.
 *
 * @internal
 */
export function buildProtocolFor(factory: IProtocolFactory, peer: IAddress): IProtocol | null {
  try {
    return factory.buildProtocol(peer) ?? null;
  } catch (error) {
    log.failure('Unhandled error in buildProtocol of {factory}; closing the connection', error, {
      factory: factory.constructor.name,
    });
    return null;
  }
}

/** A Buffer copy of `data` (small copies come from Node's buffer pool). */
function copy(data: Uint8Array): Buffer {
  const buffer = Buffer.allocUnsafe(data.byteLength);
  buffer.set(data);
  return buffer;
}

/** Stands in for a protocol a factory refused to build. @internal */
export class NullProtocol implements IProtocol {
  makeConnection(): void {}
  connectionMade(): void {}
  dataReceived(): void {}
  connectionLost(): void {}
}

/**
 * One end of a simulated TCP connection: what the protocol on a simulated
 * host writes to.
 *
 * @remarks
 * It keeps the contract of the real TCP transport:
 *
 * - Writes are copied, cut into segments of at most the link's MTU less 40
 *   bytes, and delivered in order exactly once, whatever the link loses or
 *   reorders (a lost segment is sent again after a retransmission timeout,
 *   so loss shows up as delay). Writes after `loseConnection` or
 *   `loseWriteConnection` are dropped.
 * - `loseConnection()` stops delivering what arrives, sends a FIN once a
 *   registered producer has unregistered, and the protocol gets
 *   `connectionLost(ConnectionDone)` once the peer's FIN has arrived (or
 *   10 seconds later). A peer that cannot half-close answers a FIN with its
 *   own and loses the connection with `ConnectionDone`; a half-closeable
 *   one gets `readConnectionLost()`.
 * - `abortConnection()` sends a reset: this side gets `ConnectionAborted`,
 *   the peer `ConnectionLost` ("Connection reset by peer").
 * - A throw from a protocol callback is logged and aborts that connection.
 * - Flow control: bytes written and not yet delivered to the peer's
 *   protocol beyond the network's socket buffer (64 KiB unless configured)
 *   count as buffered; a streaming producer is paused above the high mark
 *   and resumed at the low mark; a pull producer is asked for more while
 *   nothing is buffered. `pauseProducing()` holds what arrives until
 *   `resumeProducing()`.
 * - Segments that cannot arrive (a partition, a crashed host) are
 *   retransmitted with exponential backoff; after the network's give-up
 *   time the sending side loses the connection with `ConnectionLost`
 *   ("Connection timed out").
 *
 * @since 0.1.0
 */
export class SimulatedTransport implements ITCPTransport<IPv4Address>, IWriteBufferLimits {
  /** The connection this is one end of. */
  connection!: SimulatedConnection;
  /** The other end. */
  peerTransport!: SimulatedTransport;
  /** The protocol; a stand-in until the connection is made. */
  protocol: IProtocol = new NullProtocol();
  /** `host:address:port`, for the trace. */
  readonly label: string;
  /** True for the accepting side. */
  readonly isServer: boolean;
  /** @internal The host's incarnation this end belongs to. */
  readonly incarnation: number;
  /** @internal Index of the next segment this end sends. */
  sendIndex = 0;
  /** @internal Arrival time of the last segment sent (keeps first transmissions in order). */
  lastArrival = 0;
  /** @internal Called once, when the protocol has been told the connection is lost. */
  onLost: ((reason: Failure) => void) | undefined;
  /** @internal For the connecting side: called when the SYN-ACK arrives; false refuses it. */
  onSynAck: ((transport: SimulatedTransport) => boolean) | undefined;

  readonly #wire: Wire;
  readonly #host: SimulatedHost;
  readonly #local: IPv4Address;
  readonly #peer: IPv4Address;
  #link: LinkState | undefined;
  #state: 'connecting' | 'open' | 'disconnecting' | 'closed' = 'connecting';
  #lost = false;
  #finSent = false;
  #finReceived = false;
  #writeEnded = false;
  #rstSent = false;
  #gotReset = false;
  #recvExpected = 0;
  #ooo: Map<number, Segment> | undefined;
  #readPaused = false;
  #held: Segment[] = [];
  #releasing = false;
  #unacked = 0;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #pullAsked = false;
  #high = DEFAULT_WRITE_HIGH;
  #low = DEFAULT_WRITE_LOW;
  #noDelay = false;
  #keepAlive = false;
  #grace: Task | undefined;

  /** @internal */
  constructor(
    wire: Wire,
    host: SimulatedHost,
    isServer: boolean,
    local: IPv4Address,
    peer: IPv4Address,
  ) {
    this.#wire = wire;
    this.#host = host;
    this.isServer = isServer;
    this.incarnation = host.incarnation;
    this.#local = local;
    this.#peer = peer;
    this.label = `${host.name}:${local.host}:${local.port}`;
    bindMethods(this, TRANSPORT_METHODS);
  }

  /** The host this end lives on. */
  get host(): SimulatedHost {
    return this.#host;
  }

  /** Whether the connection is closing or closed. */
  get disconnecting(): boolean {
    return this.#state === 'disconnecting' || this.#state === 'closed';
  }

  /** Whether this side's protocol has been told the connection is lost. */
  get connectionLostReported(): boolean {
    return this.#lost;
  }

  /**
   * Whether the kernel has stopped caring for this end's segments: it was
   * reset (either way) or died with its host. A cleanly closed end still
   * retransmits its FIN and data, as a kernel does after `close()`.
   *
   * @internal
   */
  get abandoned(): boolean {
    return this.#rstSent || this.#gotReset || this.dead;
  }

  /** Whether this end died with its host (a crash): it does nothing any more. */
  get dead(): boolean {
    return this.#host.incarnation !== this.incarnation;
  }

  /** `SimulatedTransport<client:10.0.0.1:49152>`. */
  toString(): string {
    return `SimulatedTransport<${this.label}>`;
  }

  getHost(): IPv4Address {
    return this.#local;
  }

  getPeer(): IPv4Address {
    return this.#peer;
  }

  /** `'sim'`, the name used for this transport in logs. */
  logPrefix(): string {
    return 'sim';
  }

  /**
   * Sends a copy of `data` to the peer.
   *
   * @throws TypeError if `data` is not a Uint8Array.
   */
  write(data: Uint8Array): void {
    checkBytes(data, 'write');
    if (this.#state === 'closed' || this.#writeEnded || this.dead) return;
    if (this.#state === 'disconnecting' && this.#producer === null) return;
    const length = data.byteLength;
    if (length === 0) return;
    const link = this.#linkOut();
    const mss = link.mtu - 40;
    this.#unacked += length;
    if (length <= mss) {
      this.#send(DATA, copy(data));
    } else {
      for (let offset = 0; offset < length; offset += mss) {
        this.#send(DATA, copy(data.subarray(offset, Math.min(length, offset + mss))));
      }
    }
    this.#afterWrite();
  }

  /**
   * Sends the chunks as one write.
   *
   * @throws TypeError if a chunk is not a Uint8Array.
   */
  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = checkByteSequence(data, 'writeSequence');
    if (chunks.length > 0) this.write(Buffer.concat(chunks));
  }

  loseConnection(): void {
    if (this.#state !== 'open' && this.#state !== 'connecting') return;
    this.#state = 'disconnecting';
    this.#releaseHeldDropping();
    if (this.#producer === null) this.#closeWrite();
  }

  loseWriteConnection(): void {
    if (this.#writeEnded || this.#state === 'closed') return;
    this.#writeEnded = true;
    this.#sendFin();
    const protocol = this.protocol;
    if (isHalfCloseable(protocol)) {
      this.#wire.soon(this.#host, () => {
        if (this.#lost) return;
        try {
          protocol.writeConnectionLost?.();
        } catch (error) {
          this.#protocolFailed('writeConnectionLost', error);
        }
      });
    }
  }

  abortConnection(): void {
    if (this.#state === 'closed' || this.dead) return;
    this.#state = 'closed';
    this.#sendRst();
    const reason = new Failure(new ConnectionAborted());
    this.#wire.soon(this.#host, () => this.lose(reason));
  }

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${String(producer)}, because producer ${String(this.#producer)} was never unregistered.`,
      );
    }
    if (this.#state === 'closed') {
      this.#stopProducer(producer);
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (streaming) this.#afterWrite();
    else this.#askPull();
  }

  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
    if (this.#state === 'disconnecting') this.#closeWrite();
  }

  /** Holds what arrives until `resumeProducing()`. */
  pauseProducing(): void {
    this.#readPaused = true;
  }

  /** Delivers what was held, then what arrives. */
  resumeProducing(): void {
    if (!this.#readPaused) return;
    this.#readPaused = false;
    if (this.#held.length > 0) this.#wire.soon(this.#host, () => this.#releaseHeld());
  }

  /** Stops reading for good: loses the connection. */
  stopProducing(): void {
    this.loseConnection();
  }

  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
  }

  /**
   * Sets the marks between which a streaming producer is paused and resumed.
   *
   * @throws RangeError for bad marks.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitOptions): void {
    const { high, low } = resolveWriteBufferLimits(limits);
    this.#high = high;
    this.#low = low;
    this.#afterWrite();
    this.#afterAck();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return { high: this.#high, low: this.#low };
  }

  /** Bytes written and not yet delivered to the peer, beyond the socket buffer. */
  getWriteBufferSize(): number {
    return Math.max(0, this.#unacked - this.#wire.socketBuffer);
  }

  /** Bytes written and not yet delivered to the peer's protocol. */
  get bytesInFlight(): number {
    return this.#unacked;
  }

  // -------------------------------------------------------------------------
  // Internal: the network calls these.

  /** @internal Attaches the protocol and makes the connection (connectionMade). */
  attach(protocol: IProtocol): void {
    this.protocol = protocol;
    if (this.#state === 'connecting') this.#state = 'open';
    this.#wire.connectionOpened(this.connection);
    try {
      protocol.makeConnection(this);
    } catch (error) {
      this.#protocolFailed('connectionMade', error);
    }
  }

  /** @internal Sends the SYN-ACK (index 0 of the server's direction). */
  sendSynAck(): void {
    this.#send(SYNACK, undefined);
  }

  /** @internal Expects the peer's first segment to have this index. */
  expectFrom(index: number): void {
    this.#recvExpected = index;
  }

  /** @internal A segment for this end arrived. */
  receive(segment: Segment): void {
    if (this.dead) {
      if (segment.kind !== RST) this.#sendRst(true);
      return;
    }
    if (segment.kind === RST) {
      if (this.#state !== 'closed' || !this.#lost) this.#reset();
      return;
    }
    if (segment.index !== this.#recvExpected) {
      this.#ooo ??= new Map();
      this.#ooo.set(segment.index, segment);
      return;
    }
    this.#process(segment);
    this.#recvExpected++;
    const ooo = this.#ooo;
    if (ooo !== undefined && ooo.size > 0) {
      for (let next = ooo.get(this.#recvExpected); next !== undefined; ) {
        ooo.delete(this.#recvExpected);
        this.#process(next);
        this.#recvExpected++;
        next = ooo.get(this.#recvExpected);
      }
    }
  }

  /** @internal The peer acknowledged (delivered) `length` bytes. */
  acked(length: number): void {
    this.#unacked -= length;
    if (this.#producer !== null) this.#afterAck();
  }

  /** @internal The network gave up retransmitting a segment of this end. */
  timedOut(): void {
    if (this.#lost || this.dead) return;
    this.#state = 'closed';
    this.lose(new Failure(new ConnectionLost('Connection timed out')));
  }

  /** @internal A reset from the network (reset(connection)) or the peer. */
  resetNow(): void {
    if (this.dead) return;
    this.#reset();
  }

  /** @internal Tells the protocol the connection is lost (once). */
  lose(reason: Failure): void {
    if (this.#lost || this.dead) return;
    this.#lost = true;
    this.#state = 'closed';
    this.#grace?.cancel();
    this.#grace = undefined;
    this.#held = [];
    const producer = this.#producer;
    if (producer !== null) {
      this.#producer = null;
      this.#stopProducer(producer);
    }
    const connection = this.connection;
    if (this.peerTransport.#lost || this.peerTransport.dead)
      this.#wire.connectionClosed(connection);
    try {
      this.protocol.connectionLost(reason);
    } catch (error) {
      this.#wire.callbackFailed(error);
      log.failure('Unhandled error in connectionLost of {protocol}', error, {
        protocol: this.protocol.constructor.name,
      });
    }
    this.onLost?.(reason);
  }

  // -------------------------------------------------------------------------

  #process(segment: Segment): void {
    switch (segment.kind) {
      case DATA: {
        const data = segment.data as Uint8Array;
        if (this.#state === 'closed') {
          this.#sendRst(true);
          return;
        }
        if (this.#state === 'disconnecting' || this.#finReceived) {
          segment.sender?.acked(data.byteLength);
          return;
        }
        if (this.#readPaused || this.#held.length > 0) {
          this.#held.push(segment);
          return;
        }
        this.#deliver(segment);
        return;
      }
      case FIN:
        this.#finArrived();
        return;
      case SYNACK: {
        const accept = this.onSynAck;
        this.onSynAck = undefined;
        if (accept === undefined || !accept(this)) {
          this.#state = 'closed';
          this.#lost = true;
          this.#sendRst(true);
        }
        return;
      }
      default:
        return;
    }
  }

  #deliver(segment: Segment): void {
    const data = segment.data as Uint8Array;
    segment.sender?.acked(data.byteLength);
    try {
      this.protocol.dataReceived(data);
    } catch (error) {
      this.#protocolFailed('dataReceived', error);
    }
  }

  #releaseHeld(): void {
    if (this.#releasing) return;
    this.#releasing = true;
    try {
      while (!this.#readPaused && this.#held.length > 0 && this.#state === 'open') {
        const segment = this.#held.shift() as Segment;
        this.#deliver(segment);
      }
    } finally {
      this.#releasing = false;
    }
    if (this.#held.length === 0 && this.#finReceived && !this.#lost) this.#finArrived();
  }

  #releaseHeldDropping(): void {
    for (const segment of this.#held)
      segment.sender?.acked((segment.data as Uint8Array).byteLength);
    this.#held = [];
  }

  #finArrived(): void {
    if (this.#lost) return;
    this.#finReceived = true;
    if (this.#held.length > 0 && this.#state === 'open') return; // after what is held
    if (this.#state === 'disconnecting') {
      if (this.#finSent) this.lose(new Failure(new ConnectionDone()));
      return;
    }
    if (this.#state !== 'open') return;
    const protocol = this.protocol;
    if (isHalfCloseable(protocol)) {
      try {
        protocol.readConnectionLost();
      } catch (error) {
        this.#protocolFailed('readConnectionLost', error);
        return;
      }
      if (this.#finSent && !this.#lost) this.lose(new Failure(new ConnectionDone()));
      return;
    }
    this.#state = 'disconnecting';
    const producer = this.#producer;
    if (producer !== null) {
      this.#producer = null;
      this.#stopProducer(producer);
    }
    this.#sendFin();
    this.lose(new Failure(new ConnectionDone()));
  }

  /** After loseConnection, once no producer is registered: FIN, then wait for the peer's. */
  #closeWrite(): void {
    this.#sendFin();
    if (this.#finReceived) {
      this.lose(new Failure(new ConnectionDone()));
      return;
    }
    if (this.#grace === undefined && !this.#lost) {
      this.#grace = this.#wire.later(this.#host, CLOSE_GRACE, () => {
        this.#grace = undefined;
        this.lose(new Failure(new ConnectionDone()));
      });
    }
  }

  #sendFin(): void {
    if (this.#finSent) return;
    this.#finSent = true;
    this.#writeEnded = true;
    this.#send(FIN, undefined);
  }

  #sendRst(once = false): void {
    if (once && this.#rstSent) return;
    this.#rstSent = true;
    const wire = this.#wire;
    const link = this.#linkOut();
    wire.send(
      new Segment(
        wire as unknown as SegmentHandler,
        RST,
        this.#host,
        this.peerTransport.#host,
        link,
        this,
        this.peerTransport,
        -1,
        undefined,
        undefined,
      ),
    );
  }

  #reset(): void {
    this.#gotReset = true;
    this.#state = 'closed';
    this.lose(new Failure(new ConnectionLost('Connection reset by peer')));
  }

  #send(kind: number, data: Uint8Array | undefined): void {
    const wire = this.#wire;
    wire.send(
      new Segment(
        wire as unknown as SegmentHandler,
        kind,
        this.#host,
        this.peerTransport.#host,
        this.#linkOut(),
        this,
        this.peerTransport,
        this.sendIndex++,
        data,
        undefined,
      ),
    );
  }

  #linkOut(): LinkState {
    this.#link ??= this.#wire.linkBetween(this.#host, this.peerTransport.#host);
    return this.#link;
  }

  #afterWrite(): void {
    const producer = this.#producer;
    if (producer === null) return;
    if (!this.#streaming) {
      this.#askPull();
      return;
    }
    if (this.#producerPaused || this.getWriteBufferSize() <= this.#high) return;
    this.#producerPaused = true;
    this.#callProducer(() => (producer as IPushProducer).pauseProducing(), 'pauseProducing');
  }

  #afterAck(): void {
    const producer = this.#producer;
    if (producer === null) return;
    if (!this.#streaming) {
      this.#askPull();
      return;
    }
    if (!this.#producerPaused || this.getWriteBufferSize() > this.#low) return;
    this.#producerPaused = false;
    this.#callProducer(() => producer.resumeProducing(), 'resumeProducing');
  }

  #askPull(): void {
    if (this.#pullAsked || this.getWriteBufferSize() > 0) return;
    this.#pullAsked = true;
    this.#wire.soon(this.#host, () => {
      this.#pullAsked = false;
      const producer = this.#producer;
      if (producer === null || this.#streaming || this.#state === 'closed') return;
      if (this.getWriteBufferSize() > 0) return;
      this.#callProducer(() => producer.resumeProducing(), 'resumeProducing');
    });
  }

  #callProducer(call: () => void, what: string): void {
    try {
      call();
    } catch (error) {
      this.#protocolFailed(`the producer's ${what}`, error);
    }
  }

  #stopProducer(producer: IPushProducer | IPullProducer): void {
    try {
      producer.stopProducing();
    } catch (error) {
      log.failure('Error stopping the producer of {transport}', error, { transport: String(this) });
    }
  }

  #protocolFailed(where: string, error: unknown): void {
    this.#wire.callbackFailed(error);
    log.failure('Unhandled error in {callback} of {protocol}; aborting the connection', error, {
      callback: where,
      protocol: this.protocol.constructor.name,
    });
    if (this.#lost) return;
    this.#state = 'closed';
    this.#sendRst(true);
    this.lose(
      new Failure(new ConnectionAborted(`aborted after an error in ${where}`, { cause: error })),
    );
  }
}
