// A tour of what Torsion has so far: Deferreds that fire synchronously,
// errbacks, chaining, inlineCallbacks, DeferredList, and time driven by a
// deterministic Clock. Run it with `npm start`.

import {
  CancelledError,
  Deferred,
  DeferredList,
  type Failure,
  inlineCallbacks,
  succeed,
  TimeoutError,
} from 'torsion/defer';
import { Clock } from 'torsion/task';

/** Multiplies slowly: the answer arrives `delay` seconds later on `clock`. */
function slowMultiply(clock: Clock, x: number, y: number, delay = 3): Deferred<number> {
  const d = new Deferred<number>();
  clock.callLater(delay, () => d.callback(x * y));
  return d;
}

/** Runs the tour, writing each line to `print`. */
export function main(print: (line: string) => void = console.log): void {
  const clock = new Clock();

  print('1. Callbacks run in order, each getting the previous result:');
  slowMultiply(clock, 5, 7)
    .addCallback((product) => product + 1)
    .addCallback((n) => print(`   5 * 7 + 1 = ${n}`));
  clock.advance(3);

  print('2. A throw switches to the error path; an errback can recover:');
  succeed('input')
    .addCallback(() => {
      throw new Error('parse failed');
    })
    .addCallback(() => print('   (never printed)'))
    .addErrback((failure: Failure) => `recovered from "${failure.getErrorMessage()}"`)
    .addCallback((text) => print(`   ${text}`));

  print('3. Returning a Deferred from a callback waits for it:');
  succeed(6)
    .addCallback((n) => slowMultiply(clock, n, 7, 1))
    .addCallback((n) => print(`   waited 1 s for ${n}`));
  clock.advance(1);

  print('4. inlineCallbacks reads like straight-line code:');
  const total = inlineCallbacks(function* () {
    const a = yield* slowMultiply(clock, 2, 3, 1);
    const b = yield* slowMultiply(clock, 4, 5, 1);
    return a + b;
  });
  total().addCallback((sum) => print(`   2*3 + 4*5 = ${sum} after ${clock.seconds() - 4} s`));
  clock.advance(1);
  clock.advance(1);

  print('5. DeferredList collects several results:');
  new DeferredList([slowMultiply(clock, 1, 1, 1), slowMultiply(clock, 2, 2, 2)]).addCallback(
    (entries) => print(`   ${JSON.stringify(entries)}`),
  );
  clock.advance(2);

  print('6. A timeout cancels what is too slow:');
  slowMultiply(clock, 9, 9, 30)
    .addTimeout(5, clock)
    .addErrback((failure: Failure) => {
      failure.trap(TimeoutError, CancelledError);
      print(`   gave up: ${failure.getErrorMessage()}`);
    });
  clock.advance(5);
  clock.advance(30);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
