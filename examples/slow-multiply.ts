// slow_multiply: a function that returns a Deferred at
// once and fires it three seconds later with the product; the reactor is
// stopped after four.
//
// Run it: npm run build && node dist/examples/slow-multiply.js

import { Deferred } from 'torsion/defer';
import type { IReactorCore, IReactorTime } from 'torsion/reactor';

/** Writes one line of output. */
export type Print = (line: string) => void;

/** Multiplies slowly: the Deferred fires with `x * y` three seconds later. */
export function slowMultiply(reactor: IReactorTime, x: number, y: number): Deferred<number> {
  const d = new Deferred<number>();
  reactor.callLater(3, () => d.callback(x * y));
  return d;
}

export function main(
  reactor: IReactorCore & IReactorTime,
  print: Print = console.log,
): Deferred<void> {
  print('Determining result of 5 * 7...');
  const d = slowMultiply(reactor, 5, 7).addCallback((firedValue) => {
    print(`... result is ${firedValue}!`);
  });
  // Stop after four seconds, long enough for the result. Like Fate's shutdown.
  reactor.callLater(4, () => reactor.stop());
  return d;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
