// The Mad Hatter's firecracker on Torsion: "Twisted
// Reactor is approximately Fate, and Deferred is approximately Fuse". The
// fuse is a Deferred fired by a timed call; the firecracker may still be in
// the Hatter's hands when it goes off.
//
// Run it: npm run build && node dist/examples/firecracker.js

import { Deferred } from 'torsion/defer';
import type { IReactorCore, IReactorTime } from 'torsion/reactor';

/** Writes one line of output. */
export type Print = (line: string) => void;

/** A firecracker with an owner, and a fuse that is a Deferred. */
export class FireCracker {
  constructor(
    public owner: string,
    private readonly reactor: IReactorTime,
    private readonly print: Print,
    private readonly random: () => number = Math.random,
  ) {}

  handTo(newOwner: string): void {
    this.owner = newOwner;
  }

  explode(_fired: boolean): void {
    this.print(`BOOM! Firecracker exploded in the unlucky hands of ${this.owner}`);
  }

  /** Lights the fuse: it burns for 0.5, 1, 1.5 or 2 seconds. */
  lightFuse(): Deferred<void> {
    const burningTime = [0.5, 1.0, 1.5, 2.0][Math.floor(this.random() * 4)] ?? 1.0;
    const d = new Deferred<boolean>();
    const exploded = d.addCallback((fired) => this.explode(fired));
    this.reactor.callLater(burningTime, () => d.callback(true));
    return exploded;
  }
}

/**
 * Lights the fuse at once, hands the firecracker to Ben after a second, and
 * stops the reactor after three, long enough for it to explode.
 */
export function main(
  reactor: IReactorCore & IReactorTime,
  print: Print = console.log,
  random?: () => number,
): void {
  const firecracker = new FireCracker('Mad Hatter', reactor, print, random);
  reactor.callLater(0, () => firecracker.lightFuse());
  reactor.callLater(1, () => firecracker.handTo('Ben Eills'));
  reactor.callLater(3, () => reactor.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
