// "Fate", a toy event manager, and its Fuses: a
// fuse is a timed event, Fate checks every fifth of a second which fuses have
// burned and calls their handlers. Two programs run on it: the
// Mad Hatter's firecracker, and a chain of fuses that ends at Parliament.
// firecracker.ts and chain-of-fuses.ts are the same programs on Torsion.
//
// Run it: npm run build && node dist/examples/fate.js

/** Writes one line of output. */
export type Print = (line: string) => void;

/** Where Fate gets the time (seconds) and how it waits between checks. */
export interface FateClock {
  now(): number;
  sleep(seconds: number): Promise<void>;
}

const realClock: FateClock = {
  now: () => performance.now() / 1000,
  sleep: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
};

/** A timed event: burned once its time has passed; then its handler runs. */
export class Fuse {
  time = 0;
  handler: (() => void) | undefined;

  constructor(private readonly clock: FateClock) {}

  isBurned(): boolean {
    return this.time < this.clock.now();
  }
}

/** The event manager: hands out fuses and runs the handlers of burned ones. */
export class Fate {
  readonly fuses: Fuse[] = [];
  #shutdown = false;

  constructor(readonly clock: FateClock = realClock) {}

  /** A fuse that burns `seconds` from now; set its handler. */
  getFuse(seconds: number): Fuse {
    const fuse = new Fuse(this.clock);
    fuse.time = this.clock.now() + seconds;
    this.fuses.push(fuse);
    return fuse;
  }

  /** Runs the handlers of the fuses that have burned. */
  checkFuses(): void {
    for (const fuse of [...this.fuses]) {
      if (fuse.handler !== undefined && fuse.isBurned()) {
        this.fuses.splice(this.fuses.indexOf(fuse), 1);
        fuse.handler();
      }
    }
  }

  /** Checks the fuses every 0.2 s until shut down. */
  async run(): Promise<void> {
    while (!this.#shutdown) {
      this.checkFuses();
      await this.clock.sleep(0.2);
    }
  }

  shutdown(): void {
    this.#shutdown = true;
  }
}

/** The Mad Hatter lights a firecracker and hands it to Ben Eills. */
export async function firecrackerOnFate(
  fate: Fate,
  print: Print,
  random = Math.random,
): Promise<void> {
  let owner = 'Mad Hatter';
  const explode = (): void => {
    print(`BOOM! Firecracker exploded in the unlucky hands of ${owner}`);
    // Shut down two seconds after the explosion.
    fate.getFuse(2).handler = () => fate.shutdown();
  };
  const burningTime = [0.5, 1.0, 1.5, 2.0][Math.floor(random() * 4)] ?? 1.0;
  fate.getFuse(burningTime).handler = explode;
  owner = 'Ben Eills';
  await fate.run();
}

/** Seven fuses tied in a chain, the last to a barrel under Parliament. */
export async function chainOnFate(fate: Fate, print: Print): Promise<void> {
  class FuseInChain {
    constructor(
      readonly next: FuseInChain | undefined,
      readonly burnTime: number,
    ) {}
    ignite(): void {
      print('...igniting next fuse in chain...');
      const fuse = fate.getFuse(this.burnTime);
      const next = this.next;
      fuse.handler =
        next === undefined
          ? () => {
              print('Boom! The Houses of Parliament explode!');
              fate.shutdown();
            }
          : () => next.ignite();
    }
  }
  let last = new FuseInChain(undefined, 0.3);
  for (let i = 0; i < 7; i++) last = new FuseInChain(last, i / 10);
  last.ignite();
  await fate.run();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await firecrackerOnFate(new Fate(), console.log);
  await chainOnFate(new Fate(), console.log);
}
