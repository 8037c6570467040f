// print_later_twice: the same, with the Deferred built
// and fired by hand. Its life: constructed, callbacks added to its chain,
// fired with a result, which each callback passes on to the next.
// Press Ctrl-C to end it.
//
// Run it: npm run build && node dist/examples/print-later-twice.js

import { Deferred } from 'torsion/defer';
import type { IReactorTime } from 'torsion/reactor';

/** Writes one line of output. */
export type Print = (line: string) => void;

/** Prints `message` twice after one second. */
export function printLaterTwice(
  reactor: IReactorTime,
  message: string,
  print: Print = console.log,
): Deferred<string> {
  const printAndPassThrough = (result: string): string => {
    print(result);
    return result;
  };
  const d = new Deferred<string>();
  d.addCallback(printAndPassThrough);
  d.addCallback(printAndPassThrough);
  reactor.callLater(1, () => d.callback(message));
  return d;
}

export function main(reactor: IReactorTime, print: Print = console.log): Deferred<string> {
  return printLaterTwice(reactor, 'The future is now!', print);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
