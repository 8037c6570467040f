// The chain of fuses on Torsion: each fuse is a Deferred
// fired by a timed call, and its callback ignites the next one. The chain is
// a plain loop over data; the reactor does the waiting.
//
// Run it: npm run build && node dist/examples/chain-of-fuses.js

import { Deferred } from 'torsion/defer';
import type { IReactorCore, IReactorTime } from 'torsion/reactor';

/** Writes one line of output. */
export type Print = (line: string) => void;

/** A Deferred that fires after `seconds`: a fuse. */
function fuse(reactor: IReactorTime, seconds: number): Deferred<void> {
  const d = new Deferred<void>();
  reactor.callLater(seconds, () => d.callback(undefined));
  return d;
}

/**
 * Ignites fuses burning 0.6, 0.5, … 0 and then 0.3 seconds in turn; the
 * last one blows up the barrel and stops the reactor.
 *
 * @returns A Deferred that fires when Parliament explodes.
 */
export function main(
  reactor: IReactorCore & IReactorTime,
  print: Print = console.log,
): Deferred<void> {
  const burnTimes = [6, 5, 4, 3, 2, 1, 0].map((tenths) => tenths / 10).concat([0.3]);
  let chain: Deferred<void> = new Deferred<void>();
  const start = chain;
  for (const burnTime of burnTimes) {
    chain = chain.addCallback(() => {
      print('...igniting next fuse in chain...');
      // Returning the fuse makes the chain wait until it has burned.
      return fuse(reactor, burnTime);
    });
  }
  const done = chain.addCallback(() => {
    print('Boom! The Houses of Parliament explode!');
    reactor.stop();
  });
  start.callback(undefined);
  return done;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
