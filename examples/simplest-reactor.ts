// The simplest event-driven engine: a reactor is
// "just sitting around and waiting for one of a small number of things to
// happen". This one waits for nothing but its own queue: every tenth of a
// second it runs the next function someone asked it to `do`. Beside it, the
// same program on Torsion's reactor.
//
// Run it: npm run build && node dist/examples/simplest-reactor.js

import type { IReactorCore, IReactorTime } from 'torsion/reactor';

/** Writes one line of output. */
export type Print = (line: string) => void;

/**
 * A toy reactor: a queue of functions, one run per turn, with a pause
 * between turns. Real reactors sleep in `epoll`/`kqueue` until an event
 * arrives instead of polling; the structure is the same.
 */
export class SimplestReactor {
  readonly #events: Array<() => void> = [];
  #stopped = false;
  readonly #pause: () => Promise<void>;

  /** @param pause - Waits between turns; a tenth of a second by default. */
  constructor(
    pause: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 100)),
  ) {
    this.#pause = pause;
  }

  /** Queues `something` to run on a later turn. */
  do(something: () => void): void {
    this.#events.push(something);
  }

  /** Runs turns until `stop()`. */
  async run(): Promise<void> {
    while (!this.#stopped) {
      await this.#pause();
      const thisTurn = this.#events.shift();
      if (thisTurn !== undefined) thisTurn();
    }
  }

  /** Ends `run()` after the current turn. */
  stop(): void {
    this.#stopped = true;
  }
}

/** The application, on the toy reactor. */
export async function runOnSimplestReactor(
  print: Print,
  pause?: () => Promise<void>,
): Promise<void> {
  const reactor = new SimplestReactor(pause);
  const thing1 = (): void => {
    print('Doing thing 1');
    reactor.do(thing2);
    reactor.do(thing3);
  };
  const thing2 = (): void => print('Doing thing 2');
  const thing3 = (): void => {
    print('Doing thing 3: and stopping');
    reactor.stop();
  };
  reactor.do(thing1);
  print('Running');
  await reactor.run();
  print('Done!');
}

/**
 * The same application on Torsion: "do it on a later turn" is
 * `callLater(0, f)`, and stopping is `reactor.stop()`.
 */
export function main(reactor: IReactorCore & IReactorTime, print: Print = console.log): void {
  const thing1 = (): void => {
    print('Doing thing 1');
    reactor.callLater(0, thing2);
    reactor.callLater(0, thing3);
  };
  const thing2 = (): void => print('Doing thing 2');
  const thing3 = (): void => {
    print('Doing thing 3: and stopping');
    reactor.stop();
  };
  reactor.callLater(0, thing1);
  print('Running');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  console.log('--- the toy reactor');
  await runOnSimplestReactor(console.log);
  console.log('--- Torsion');
  main(reactor);
  await reactor.run();
  console.log('Done!');
}
