// Type tests of the `{ signal }` options, checked by tsc during the build:
// deferLater takes its options before the callable (a trailing options
// object is taken for an argument and does not compile), and a client
// endpoint's connect keeps the factory's protocol type with options given.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import { connectProtocol, type IStreamClientEndpoint, TCP4ClientEndpoint } from 'torsion/endpoints';
import { Factory, Protocol } from 'torsion/protocol';
import { Clock, deferLater } from 'torsion/task';
import { MemoryReactorClock } from 'torsion/testing';
import { expectType } from './expect-type.js';

class Greeter extends Protocol {
  readonly greeting = 'hello';
}

test('deferLater takes { signal } before the callable, and types the result', () => {
  const clock = new Clock();
  const { signal } = new AbortController();
  expectType<Deferred<undefined>>()(deferLater(clock, 1, { signal }));
  const d = deferLater(clock, 1, { signal }, (n: number, s: string) => s.repeat(n), 2, 'ab');
  expectType<Deferred<string>>()(d);
  // @ts-expect-error the options come before the callable, not after its arguments
  deferLater(clock, 1, (n: number) => n, 2, { signal });
  // @ts-expect-error the callable's arguments are checked after the options too
  deferLater(clock, 1, { signal }, (n: number) => n, 'two');
  clock.advance(1);
  assert.equal(d.called, true);
});

test('connect(factory, { signal }) keeps the protocol type', () => {
  const reactor = new MemoryReactorClock();
  const endpoint: IStreamClientEndpoint = new TCP4ClientEndpoint(reactor, '10.0.0.1', 80);
  const controller = new AbortController();
  const d = endpoint.connect(Factory.forProtocol(Greeter), { signal: controller.signal });
  expectType<Deferred<Greeter>>()(d);
  const p = connectProtocol(endpoint, new Greeter(), { signal: controller.signal });
  expectType<Deferred<Greeter>>()(p);
  // Not called: checked by the compiler only.
  // @ts-expect-error a signal, not a controller
  void (() => endpoint.connect(new Factory(), { signal: controller }));
  controller.abort();
  d.addErrback(() => undefined);
  p.addErrback(() => undefined);
  assert.equal(d.called && p.called, true);
});
