// The protocols the conformance suite connects: a Probe records every
// callback in order (and any that comes after connectionLost), and runs the
// hooks a case gives it. Half-closing variants implement
// IHalfCloseableProtocol in full or only its readConnectionLost.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import type { Failure } from 'torsion/defer';
import { Protocol } from 'torsion/protocol';

/** What a case can make a probe do at each callback. */
export interface ProbeHooks {
  made?: (p: Probe) => void;
  data?: (p: Probe, data: Uint8Array) => void;
  readLost?: (p: Probe) => void;
  lost?: (p: Probe, reason: Failure) => void;
}

/** A protocol that records its callbacks and runs a case's hooks. */
export class Probe extends Protocol {
  /** Callback names in the order they ran. */
  readonly events: string[] = [];
  /** Callbacks that ran after connectionLost (there must be none). */
  readonly late: string[] = [];
  /** The `connected` flag and transport as connectionMade saw them. */
  connectedAtMade: boolean | undefined;
  transportAtMade = false;
  readonly chunks: Buffer[] = [];
  received = 0;
  lostCalls = 0;
  reason: Failure | undefined;
  protected readonly hooks: ProbeHooks;

  constructor(hooks: ProbeHooks = {}) {
    super();
    this.hooks = hooks;
  }

  /** Whether connectionLost has run. */
  get lost(): boolean {
    return this.lostCalls > 0;
  }

  /** Everything received, joined. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  protected record(name: string): void {
    this.events.push(name);
    if (this.lostCalls > 0) this.late.push(name);
  }

  override makeConnection(transport: Protocol['transport']): void {
    this.record('makeConnection');
    super.makeConnection(transport);
  }

  override connectionMade(): void {
    this.record('connectionMade');
    this.connectedAtMade = this.connected;
    this.transportAtMade = this.transport !== undefined;
    this.hooks.made?.(this);
  }

  override dataReceived(data: Uint8Array): void {
    this.record('dataReceived');
    this.chunks.push(Buffer.from(data));
    this.received += data.byteLength;
    this.hooks.data?.(this, data);
  }

  override connectionLost(reason: Failure): void {
    this.record('connectionLost');
    this.lostCalls++;
    this.reason = reason;
    this.hooks.lost?.(this, reason);
  }
}

/** A probe that implements IHalfCloseableProtocol in full. */
export class HalfCloseProbe extends Probe {
  readConnectionLost(): void {
    this.record('readConnectionLost');
    this.hooks.readLost?.(this);
  }

  writeConnectionLost(): void {
    this.record('writeConnectionLost');
  }
}

/** A probe with readConnectionLost and no writeConnectionLost: it still half-closes. */
export class ReadHalfProbe extends Probe {
  readConnectionLost(): void {
    this.record('readConnectionLost');
    this.hooks.readLost?.(this);
  }
}

/** An echoing probe. */
export function echo(): Probe {
  return new Probe({ data: (p, data) => p.transport.write(data) });
}

/** Bytes 0, 1, …, 255, 0, 1, … of length `n`, offset by `seed`. */
export function pattern(n: number, seed = 0): Buffer {
  const data = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) data[i] = (i + seed) & 0xff;
  return data;
}
