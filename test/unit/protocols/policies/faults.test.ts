// FaultInjectingFactory and FaultInjectingProtocol over StringTransport and
// the in-memory pump, in virtual time: each fault kind, the seed's
// determinism, the transport contract through the wrapper, and the spec's
// string form, and an HTTP server and client exchanging a body behind faults.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import {
  ConnectionAborted,
  ConnectionDone,
  Factory,
  type IProtocol,
  IPv4Address,
  Protocol,
} from 'torsion/protocol';
import {
  FaultInjectingFactory,
  type FaultInjectingProtocol,
  type FaultPlan,
  FaultSpecError,
  formatFaultSpec,
  parseFaultSpec,
} from 'torsion/protocols/policies';
import type { IPullProducer, IPushProducer } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  connectedServerAndClient,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
  successResultOf,
} from 'torsion/testing';
import {
  Headers,
  HTTP11ClientProtocol,
  type Request,
  Resource,
  type Response,
  readBody,
  Site,
} from 'torsion/web';

/** Whether `p` lost its connection with a `type` reason. */
function lostWith(p: Recorder, type: new (...args: never[]) => Error): boolean {
  return p.lost?.check(type) != null;
}

const addr = new IPv4Address('TCP', '127.0.0.1', 0);

/** A factory whose protocols `make` builds. */
function factoryOf(make: () => IProtocol): Factory {
  const factory = new Factory();
  factory.buildProtocol = () => make();
  return factory;
}

/** Records every delivery and the end. */
class Recorder extends Protocol {
  chunks: Buffer[] = [];
  lost: Failure | undefined;
  halfClosed = false;

  override dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }

  override connectionLost(reason: Failure): void {
    this.lost = reason;
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get sizes(): number[] {
    return this.chunks.map((c) => c.byteLength);
  }
}

class HalfCloseRecorder extends Recorder {
  readConnectionLost(): void {
    this.halfClosed = true;
  }
}

/** A StringTransport that records the size of each write. */
class SizedTransport extends StringTransportWithDisconnection {
  writes: number[] = [];
  override write(data: Uint8Array): void {
    this.writes.push(data.byteLength);
    super.write(data);
  }
}

function connectOne<P extends Recorder = Recorder>(
  plan: FaultPlan | string,
  make: () => P = () => new Recorder() as P,
  clock: Clock = new Clock(),
): { inner: P; wrapper: FaultInjectingProtocol; transport: SizedTransport; clock: Clock } {
  let inner: P | undefined;
  const factory = new FaultInjectingFactory(
    factoryOf(() => {
      inner = make();
      return inner;
    }),
    plan,
    clock,
  );
  const wrapper = factory.buildProtocol(addr) as FaultInjectingProtocol;
  const transport = new SizedTransport({ protocol: wrapper });
  wrapper.makeConnection(transport);
  return { inner: inner as P, wrapper, transport, clock };
}

const bytes = (n: number, from = 0): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 251));

describe('splitting', () => {
  test('reads are cut into chunks within the range, nothing lost or reordered', () => {
    const { inner, wrapper } = connectOne({ seed: 1, split: { min: 1, max: 4 } });
    const data = bytes(1000);
    wrapper.dataReceived(data.subarray(0, 600));
    wrapper.dataReceived(data.subarray(600));
    assert.deepEqual(inner.received, data);
    assert.ok(
      inner.sizes.every((n) => n >= 1 && n <= 4),
      String(inner.sizes),
    );
    assert.ok(inner.sizes.length >= 250);
    assert.ok(new Set(inner.sizes).size > 1, 'sizes vary');
  });

  test('split=1 delivers one byte at a time', () => {
    const { inner, wrapper } = connectOne('split=1');
    wrapper.dataReceived(Buffer.from('hello'));
    assert.deepEqual(inner.sizes, [1, 1, 1, 1, 1]);
  });

  test('the same seed cuts the same way; another seed another way', () => {
    const run = (seed: number): number[] => {
      const { inner, wrapper } = connectOne({ seed, split: { min: 1, max: 16 } });
      wrapper.dataReceived(bytes(2000));
      return inner.sizes;
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  test('the cuts are at seeded stream positions, whatever the sizes of the reads', () => {
    const cuts = (sizes: number[]): number[] => {
      let at = 0;
      return sizes.map((n) => {
        at += n;
        return at;
      });
    };
    const whole = connectOne({ seed: 3, split: { min: 2, max: 9 } });
    whole.wrapper.dataReceived(bytes(500));
    const pieces = connectOne({ seed: 3, split: { min: 2, max: 9 } });
    for (let at = 0; at < 500; at += 7)
      pieces.wrapper.dataReceived(bytes(500).subarray(at, at + 7));
    const piecewise = new Set(cuts(pieces.inner.sizes));
    for (const cut of cuts(whole.inner.sizes)) assert.ok(piecewise.has(cut), `cut at ${cut}`);
  });

  test('each connection of a factory has its own seed, from the plan and its number', () => {
    const clock = new Clock();
    const received: number[][] = [];
    const factory = new FaultInjectingFactory(
      factoryOf(() => {
        const p = new Recorder();
        received.push(p.sizes);
        return p;
      }),
      'seed=5,split=1-8',
      clock,
    );
    const a = factory.buildProtocol(addr) as FaultInjectingProtocol;
    const b = factory.buildProtocol(addr) as FaultInjectingProtocol;
    assert.equal(a.connectionNumber, 0);
    assert.equal(b.connectionNumber, 1);
    assert.notEqual(a.connectionSeed, b.connectionSeed);
    const again = new FaultInjectingFactory(Factory.forProtocol(Recorder), 'seed=5', clock);
    assert.equal(
      (again.buildProtocol(addr) as FaultInjectingProtocol).connectionSeed,
      a.connectionSeed,
    );
  });

  test('writes are cut into separate transport writes', () => {
    const { wrapper, transport } = connectOne('seed=2,split=3-5');
    wrapper.write(bytes(100));
    wrapper.writeSequence([bytes(10, 100), bytes(10, 110)]);
    assert.deepEqual(transport.value(), bytes(120));
    assert.ok(transport.writes.every((n) => n >= 1 && n <= 5));
    assert.ok(transport.writes.length >= 24);
  });

  test('direction=read leaves writes whole, direction=write leaves reads whole', () => {
    const r = connectOne('split=1,direction=read');
    r.wrapper.write(bytes(10));
    r.wrapper.dataReceived(bytes(3));
    assert.deepEqual(r.transport.writes, [10]);
    assert.deepEqual(r.inner.sizes, [1, 1, 1]);
    const w = connectOne('split=1,direction=write');
    w.wrapper.write(bytes(3));
    w.wrapper.dataReceived(bytes(10));
    assert.deepEqual(w.transport.writes, [1, 1, 1]);
    assert.deepEqual(w.inner.sizes, [10]);
  });
});

describe('delays', () => {
  test('reads arrive after the delay, in order', () => {
    const { inner, wrapper, clock } = connectOne('seed=4,split=1-3,delay=0-0.5');
    wrapper.dataReceived(bytes(50));
    assert.ok(inner.received.byteLength < 50);
    clock.advance(0.25);
    wrapper.dataReceived(bytes(50, 50));
    for (let i = 0; i < 10; i++) clock.advance(0.1);
    assert.deepEqual(inner.received, bytes(100));
  });

  test('a delayed 100 KB burst cut into bytes pauses reading while queued, then arrives whole', () => {
    const { inner, wrapper, transport, clock } = connectOne('seed=6,split=1-2,delay=0.5');
    const data = bytes(100 * 1024);
    wrapper.dataReceived(data);
    assert.equal(transport.producerState, 'paused', 'over 64 KiB waits');
    clock.advance(0.5);
    assert.deepEqual(inner.received, data);
    assert.ok(inner.chunks.length > 50_000);
    assert.equal(transport.producerState, 'producing');
  });

  test('a fixed delay holds each read exactly that long', () => {
    const { inner, wrapper, clock } = connectOne('delay=1');
    wrapper.dataReceived(Buffer.from('a'));
    clock.advance(0.5);
    wrapper.dataReceived(Buffer.from('b'));
    clock.advance(0.49);
    assert.equal(inner.received.toString(), '');
    clock.advance(0.01);
    assert.equal(inner.received.toString(), 'a');
    clock.advance(0.5);
    assert.equal(inner.received.toString(), 'ab');
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('writes are delayed and loseConnection waits for them', () => {
    const { wrapper, transport, clock, inner } = connectOne('delay=0.1');
    wrapper.write(Buffer.from('hello'));
    wrapper.loseConnection();
    assert.equal(transport.value().toString(), '');
    assert.equal(transport.connected, true);
    clock.advance(0.1);
    assert.equal(transport.value().toString(), 'hello');
    assert.equal(transport.connected, false);
    assert.ok(lostWith(inner, ConnectionDone));
  });

  test('a clean end waits for the delayed reads; an abnormal one drops them', () => {
    const clean = connectOne('delay=1');
    clean.wrapper.dataReceived(Buffer.from('tail'));
    clean.wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(clean.inner.lost, undefined);
    clean.clock.advance(1);
    assert.equal(clean.inner.received.toString(), 'tail');
    assert.ok(lostWith(clean.inner, ConnectionDone));

    const aborted = connectOne('delay=1');
    aborted.wrapper.dataReceived(Buffer.from('tail'));
    aborted.wrapper.connectionLost(new Failure(new ConnectionAborted()));
    assert.ok(lostWith(aborted.inner, ConnectionAborted));
    assert.equal(aborted.inner.received.byteLength, 0);
    assert.equal(aborted.clock.getDelayedCalls().length, 0);
  });

  test("the peer's half-close follows the delayed reads", () => {
    const { inner, wrapper, clock } = connectOne('delay=1', () => new HalfCloseRecorder());
    wrapper.dataReceived(Buffer.from('x'));
    wrapper.readConnectionLost?.();
    assert.equal(inner.halfClosed, false);
    clock.advance(1);
    assert.equal(inner.received.toString(), 'x');
    assert.equal(inner.halfClosed, true);
  });
});

describe('reset, half-close, stall', () => {
  test('reset-after N reads delivers exactly N bytes, then aborts', () => {
    const { inner, wrapper, transport } = connectOne('split=1-7,reset-after=10');
    wrapper.dataReceived(bytes(25));
    assert.deepEqual(inner.received, bytes(10));
    assert.equal(transport.disconnected, true);
    assert.ok(lostWith(inner, ConnectionAborted));
    assert.deepEqual(
      wrapper.injected.map(({ fault, direction, bytes }) => [fault, direction, bytes]),
      [['reset', 'read', 10]],
    );
  });

  test('reset-after N writes writes exactly N bytes, then aborts', () => {
    const { inner, wrapper, transport } = connectOne('reset-after=4');
    wrapper.write(Buffer.from('abcdefgh'));
    assert.equal(transport.value().toString(), 'abcd');
    assert.ok(lostWith(inner, ConnectionAborted));
    wrapper.write(Buffer.from('more'));
    assert.equal(transport.value().toString(), 'abcd');
  });

  test('reset-after=0 resets as soon as the connection is made', () => {
    const { inner, transport } = connectOne('reset-after=0');
    assert.equal(transport.disconnected, true);
    assert.ok(lostWith(inner, ConnectionAborted));
  });

  test('a delayed reset comes after the delayed bytes before it', () => {
    const { inner, wrapper, clock } = connectOne('delay=0.5,reset-after=3');
    wrapper.dataReceived(Buffer.from('abcdef'));
    assert.equal(inner.lost, undefined);
    clock.advance(0.5);
    assert.equal(inner.received.toString(), 'abc');
    assert.ok(lostWith(inner, ConnectionAborted));
  });

  test('half-close-after N writes: N bytes, then loseWriteConnection; later writes dropped', () => {
    const { inner, wrapper, transport } = connectOne('half-close-after=5');
    wrapper.write(Buffer.from('abcdefgh'));
    wrapper.write(Buffer.from('ijk'));
    assert.equal(transport.value().toString(), 'abcde');
    assert.equal(transport.writeDisconnecting, true);
    assert.equal(transport.connected, true);
    wrapper.dataReceived(Buffer.from('still reading'));
    assert.equal(inner.received.toString(), 'still reading');
  });

  test('half-close-after N reads half-closes after the writes already made', () => {
    const { wrapper, transport } = connectOne('delay=1,direction=write,half-close-after=2');
    wrapper.write(Buffer.from('o'));
    wrapper.dataReceived(Buffer.from('in'));
    assert.equal(transport.writeDisconnecting, false);
    assert.deepEqual(wrapper.injected[0]?.fault, 'half-close');
    assert.deepEqual(wrapper.injected[0]?.direction, 'read');
    wrapper.write(Buffer.from('dropped'));
    (wrapper.factory.clock as Clock).advance(1);
    assert.equal(transport.value().toString(), 'o');
    assert.equal(transport.writeDisconnecting, true);
  });

  test('stall holds reads, pausing the transport, for the given time', () => {
    const { inner, wrapper, transport, clock } = connectOne('stall=2,stall-after=3');
    wrapper.dataReceived(Buffer.from('abcdef'));
    assert.equal(inner.received.toString(), 'abc');
    assert.equal(transport.producerState, 'paused');
    clock.advance(1.9);
    wrapper.dataReceived(Buffer.from('gh'));
    assert.equal(inner.received.toString(), 'abc');
    clock.advance(0.1);
    assert.equal(inner.received.toString(), 'abcdefgh');
    assert.equal(transport.producerState, 'producing');
    assert.deepEqual(
      wrapper.injected.map((f) => [f.fault, f.time]),
      [
        ['stall', 0],
        ['stall-end', 2],
      ],
    );
  });

  test('stall=forever holds reads until the connection ends, then drops them', () => {
    const { inner, wrapper, clock } = connectOne('stall=forever');
    wrapper.dataReceived(Buffer.from('never'));
    clock.advance(1000);
    assert.equal(inner.received.byteLength, 0);
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.ok(lostWith(inner, ConnectionDone));
    assert.equal(inner.received.byteLength, 0);
  });
});

describe('the transport contract through the wrapper', () => {
  test('pauseProducing stops deliveries, queued ones too; resumeProducing restarts them', () => {
    class Pauser extends Recorder {
      override dataReceived(data: Uint8Array): void {
        super.dataReceived(data);
        if (this.chunks.length === 2) this.transport.pauseProducing();
      }
    }
    const { inner, wrapper, transport, clock } = connectOne('split=1', () => new Pauser());
    wrapper.dataReceived(Buffer.from('abcdef'));
    assert.equal(inner.received.toString(), 'ab');
    assert.equal(transport.producerState, 'paused');
    wrapper.resumeProducing();
    assert.equal(transport.producerState, 'producing');
    assert.equal(inner.received.toString(), 'ab');
    clock.advance(0);
    assert.equal(inner.received.toString(), 'abcdef');
  });

  test('a paused protocol is told of a clean end at once when no read waits, after resuming when one does', () => {
    const idle = connectOne('split=1');
    idle.wrapper.pauseProducing();
    idle.wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.ok(lostWith(idle.inner, ConnectionDone));

    const { inner, wrapper, clock } = connectOne('split=1');
    wrapper.pauseProducing();
    wrapper.dataReceived(Buffer.from('ab'));
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(inner.lost, undefined);
    assert.equal(inner.received.byteLength, 0);
    wrapper.resumeProducing();
    clock.advance(0);
    assert.equal(inner.received.toString(), 'ab');
    assert.ok(lostWith(inner, ConnectionDone));
  });

  test('a push producer is paused by the transport through the stand-in, and by a full delay queue', () => {
    const { wrapper, transport, clock } = connectOne('delay=1');
    const calls: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => calls.push('pause'),
      resumeProducing: () => calls.push('resume'),
      stopProducing: () => calls.push('stop'),
    };
    wrapper.registerProducer(producer, true);
    assert.equal(transport.streaming, true);
    const standIn = transport.producer as IPushProducer;
    standIn.pauseProducing();
    standIn.resumeProducing();
    assert.deepEqual(calls, ['pause', 'resume']);
    wrapper.write(Buffer.alloc(100 * 1024));
    assert.deepEqual(calls, ['pause', 'resume', 'pause']);
    standIn.pauseProducing(); // the transport's buffer fills too
    clock.advance(1);
    assert.deepEqual(calls, ['pause', 'resume', 'pause'], 'still held by the transport');
    standIn.resumeProducing();
    assert.deepEqual(calls, ['pause', 'resume', 'pause', 'resume']);
    standIn.stopProducing();
    assert.equal(calls.at(-1), 'stop');
    wrapper.unregisterProducer();
    assert.equal(transport.producer, undefined);
  });

  test('a pull producer is asked for more only once the delayed writes are out', () => {
    const { wrapper, transport, clock } = connectOne('delay=1');
    let asked = 0;
    const producer: IPullProducer = {
      resumeProducing: () => {
        asked++;
        wrapper.write(Buffer.from('chunk'));
      },
      stopProducing: () => undefined,
    };
    wrapper.registerProducer(producer, false);
    const standIn = transport.producer as IPullProducer;
    standIn.resumeProducing();
    assert.equal(asked, 1);
    standIn.resumeProducing();
    assert.equal(asked, 1, 'a write is still delayed');
    clock.advance(1);
    assert.equal(asked, 2);
    assert.equal(transport.value().toString(), 'chunk');
  });

  test('abortConnection drops the queued writes and closes at once', () => {
    const { inner, wrapper, transport, clock } = connectOne('delay=1');
    wrapper.write(Buffer.from('gone'));
    wrapper.abortConnection();
    assert.ok(lostWith(inner, ConnectionAborted));
    clock.advance(2);
    assert.equal(transport.value().byteLength, 0);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('lossless over the in-memory pump with splits and delays on both sides', () => {
    const clock = new MemoryReactorClock();
    class Echo extends Protocol {
      override dataReceived(data: Uint8Array): void {
        this.transport.write(data);
      }
    }
    const server = new FaultInjectingFactory(
      Factory.forProtocol(Echo),
      'seed=11,split=1-13,delay=0-0.05',
      clock,
    );
    const clientInner = new Recorder();
    const client = new FaultInjectingFactory(
      factoryOf(() => clientInner),
      'seed=12,split=2-5,delay=0.01',
      clock,
    );
    const [clientProtocol, , pump] = connectedServerAndClient(server, client, { clock });
    const payload = bytes(5000);
    for (let at = 0; at < payload.byteLength; at += 1000) {
      clientProtocol.write(payload.subarray(at, at + 1000));
    }
    for (let i = 0; i < 200 && clientInner.received.byteLength < payload.byteLength; i++) {
      clock.advance(0.01);
      pump.pump();
    }
    assert.deepEqual(clientInner.received, payload);
    assert.ok(clientInner.sizes.every((n) => n <= 13));
  });
});

describe('HTTP through the wrapper, in memory', () => {
  test('a Site and an HTTP client, both behind faults, exchange a 20 KB body intact', () => {
    class Big extends Resource {
      override isLeaf = true;
      render_GET(request: Request): Uint8Array {
        return bytes(20_000, request.path.length);
      }
    }
    const clock = new MemoryReactorClock();
    const site = new Site(new Big(), { clock });
    site.noisy = false;
    const server = new FaultInjectingFactory(site, 'seed=21,split=1-50,delay=0-0.01', clock);
    let http: HTTP11ClientProtocol | undefined;
    const client = new FaultInjectingFactory(
      factoryOf(() => {
        http = new HTTP11ClientProtocol();
        return http;
      }),
      'seed=22,split=1-7,delay=0.005',
      clock,
    );
    const [, , pump] = connectedServerAndClient(server, client, { clock });
    const response = (http as HTTP11ClientProtocol).request({
      method: 'GET',
      target: '/abc',
      headers: new Headers({ Host: ['example.com'] }),
    });
    let body: ReturnType<typeof readBody> | undefined;
    for (let i = 0; i < 2000 && body?.called !== true; i++) {
      clock.advance(0.01);
      pump.pump();
      if (body === undefined && response.called)
        body = readBody(successResultOf(response) as Response);
    }
    assert.ok(body?.called, 'the body arrived');
    assert.deepEqual(
      Buffer.from(successResultOf(body as ReturnType<typeof readBody>)),
      bytes(20_000, 4),
    );
  });
});

describe('the plan and its string form', () => {
  test('parses every key, and formats back to an equal plan', () => {
    const plan = parseFaultSpec(
      ' seed=7, split=1-16,delay=0.01,direction=read,reset-after=4096,half-close-after=100,stall=forever,stall-after=10',
    );
    assert.deepEqual(plan, {
      seed: 7,
      split: { min: 1, max: 16 },
      delay: { min: 0.01, max: 0.01 },
      direction: 'read',
      resetAfter: 4096,
      halfCloseAfter: 100,
      stall: Infinity,
      stallAfter: 10,
    });
    const text = formatFaultSpec(plan);
    assert.equal(
      text,
      'seed=7,split=1-16,delay=0.01,direction=read,reset-after=4096,half-close-after=100,stall=forever,stall-after=10',
    );
    assert.deepEqual(parseFaultSpec(text), plan);
    assert.deepEqual(parseFaultSpec('split=4,delay=0-.5'), {
      seed: 0,
      split: { min: 4, max: 4 },
      delay: { min: 0, max: 0.5 },
    });
    assert.equal(formatFaultSpec({ seed: 1, stall: 2.5 }), 'seed=1,stall=2.5');
  });

  const bad: [string, RegExp][] = [
    ['', /empty fault spec/],
    ['splt=1-4', /unknown fault key "splt"; valid keys: seed, split, delay/],
    ['split=16-1', /split=16-1: the range's minimum 16 is above its maximum 1/],
    ['split=0-4', /chunks are at least 1 byte/],
    ['split=a-b', /split=a-b: expected a whole number of bytes/],
    ['split=1.5', /expected a whole number of bytes/],
    ['delay=-1', /delay=-1: expected a number of seconds/],
    ['delay=0.5-0.1', /minimum 0.5 is above its maximum 0.1/],
    ['seed=1,seed=2', /fault key seed is given twice/],
    ['seed=99999999999', /seed=99999999999: expected a whole number from 0 to 4294967295/],
    ['split', /"split" is not key=value/],
    ['direction=up', /direction=up: expected both, read or write/],
    ['stall-after=10', /stall-after needs stall=SECONDS/],
    ['stall=soon', /stall=soon: expected a number of seconds/],
    ['reset-after=-3', /reset-after=-3: expected a whole number of bytes/],
  ];
  for (const [spec, message] of bad) {
    test(`refuses ${JSON.stringify(spec)}`, () => {
      assert.throws(
        () => parseFaultSpec(spec),
        (error: unknown) =>
          error instanceof FaultSpecError &&
          error.code === 'ERR_FAULT_SPEC' &&
          message.test(error.message),
      );
    });
  }

  test('the factory checks a plan object, and wants a clock', () => {
    const factory = Factory.forProtocol(Recorder);
    assert.throws(
      () => new FaultInjectingFactory(factory, { seed: 1, split: { min: 5, max: 2 } }, new Clock()),
      /split range 5-2: the least size is above the greatest/,
    );
    assert.throws(
      () => new FaultInjectingFactory(factory, { seed: -1 }, new Clock()),
      FaultSpecError,
    );
    assert.throws(
      () => new FaultInjectingFactory(factory, { seed: 1 }, undefined as unknown as Clock),
      /FaultInjectingFactory needs a clock/,
    );
    const ok = new FaultInjectingFactory(factory, 'seed=3,split=2', new Clock());
    assert.deepEqual(ok.plan, { seed: 3, split: { min: 2, max: 2 } });
  });

  test('a plan with no faults passes everything through unchanged', () => {
    const { inner, wrapper, transport, clock } = connectOne({ seed: 9 });
    wrapper.dataReceived(Buffer.from('in'));
    wrapper.write(Buffer.from('out'));
    assert.deepEqual(inner.sizes, [2]);
    assert.deepEqual(transport.writes, [3]);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.ok(transport instanceof StringTransport);
  });
});
