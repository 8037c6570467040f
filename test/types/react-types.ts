// react and runMain hand main the default reactor typed as a NodeReactor, so
// a program can listen and connect without a cast (as Twisted's react does).
// Checked by the compiler only (react exits the process); the program in
// test/integration/fixtures/react-echo.ts runs it for real.

import type { NodeReactor } from 'torsion/reactor';
import { react, runMain } from 'torsion/task';
import { expectType } from './expect-type.js';

/** Compiled, never called: react exits the process. */
function programs(): void {
  react((reactor) => {
    expectType<NodeReactor>()(reactor);
    reactor.connectTCP('127.0.0.1', 1, { buildProtocol: () => null, doStart() {}, doStop() {} });
  });
  void runMain(
    (reactor, name: string) => {
      expectType<NodeReactor>()(reactor);
      return reactor.resolve(name);
    },
    ['localhost'],
  );
}

export { programs };
