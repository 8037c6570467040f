// Type tests of torsion/stdio, checked by tsc during the build: which
// reactors StandardIO accepts (time and shutdown triggers: a NodeReactor or
// a MemoryReactorClock, not a bare Clock), that the reactor is required,
// what its methods take and give, and the documented example's protocol.
// The runtime assertions run the same calls on in-memory streams.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { NodeReactor } from 'torsion/reactor';
import { PipeAddress, StandardIO, type StandardIOReactor } from 'torsion/stdio';
import { Clock } from 'torsion/task';
import { MemoryReactorClock } from 'torsion/testing';
import { expectType } from './expect-type.js';

/** The protocol of StandardIO's documented example. */
class Shout extends LineReceiver {
  override delimiter = Buffer.from('\n');
  override lineReceived(line: Buffer): void {
    this.sendLine(line.toString('utf8').toUpperCase());
  }
}

/** A protocol that asks for StandardIO as its transport type. */
class Filter extends Protocol<StandardIO> {
  override connectionMade(): void {
    this.transport.loseWriteConnection();
  }
}

/** Compiled, never called: it would connect the test process's own stdin and stdout. */
export function onTheProcessStreams(reactor: NodeReactor): StandardIO {
  // @ts-expect-error the reactor is required (Twisted's defaults to the global one)
  new StandardIO(new Shout());
  // @ts-expect-error a bare Clock has no shutdown triggers
  new StandardIO(new Shout(), new Clock());
  return new StandardIO(new Shout(), reactor);
}

test('StandardIO takes a MemoryReactorClock and streams, and types its addresses and writes', () => {
  const reactor: StandardIOReactor & MemoryReactorClock = new MemoryReactorClock();
  const stdout = new PassThrough();
  const transport = new StandardIO(new Filter(), reactor, { stdin: new PassThrough(), stdout });
  expectType<PipeAddress>()(transport.getHost());
  expectType<PipeAddress>()(transport.getPeer());
  // @ts-expect-error bytes only: a string is not encoded implicitly
  assert.throws(() => transport.write('text'), TypeError);
  assert.ok(transport.getPeer() instanceof PipeAddress);
  assert.equal(stdout.writableEnded, true, "Filter's connectionMade closed the writing side");
  transport.abortConnection();
  reactor.advance(0);
});
