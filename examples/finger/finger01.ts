// Finger, stage 1: a reactor that runs and does nothing. Nothing listens
// yet; the program waits for events that never come, until Ctrl-C.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger01.js

import type { IReactorCore } from 'torsion/reactor';

/** Sets up nothing: there is no server yet. */
export function main(_reactor: IReactorCore): void {}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  main(reactor);
  await reactor.run();
}
