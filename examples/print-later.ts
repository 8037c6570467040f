// print_later: deferLater sets up some work to be done
// after a time, like setTimeout, using a Deferred under the hood. As in the
// original, the reactor is not stopped: press Ctrl-C to end it.
//
// Run it: npm run build && node dist/examples/print-later.js

import type { Deferred } from 'torsion/defer';
import type { IReactorTime } from 'torsion/reactor';
import { deferLater } from 'torsion/task';

/** Writes one line of output. */
export type Print = (line: string) => void;

/** Prints `message` after one second. */
export function printLater(
  reactor: IReactorTime,
  message: string,
  print: Print = console.log,
): Deferred<void> {
  return deferLater(reactor, 1, print, message);
}

export function main(reactor: IReactorTime, print: Print = console.log): Deferred<void> {
  return printLater(reactor, 'The future is now!', print);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
