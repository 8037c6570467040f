// The transport conformance suite (Twisted: internet/test/reactormixins.py's
// ReactorBuilder; Netty's TestsuitePermutation): one set of behaviour tests
// run over every transport. Each behaviour is written once, in the modules
// beside this file, against a builder; this file registers
// describe(builder) × describe(behaviour) × test(case) with node:test.
//
// A case that does not apply to a builder is registered as skipped with the
// reason (from its `skip`, or its `singleSkip` for one-sided doubles); a
// case that fails today because of a known transport bug is registered as
// `todo` with the bug, so the suite stays green and the bug stays visible.
//
// Adding a transport (the simulated network, UDP where it applies, …):
//   1. Write a builder (builder.ts says the shapes): a PairBuilder with a
//      `name`, its `capabilities` (what it can do: half-close, abort,
//      reading pause, high-water mark, whether callback errors are caught,
//      the kind of addresses, how bytes move) and `listen(t, makeServer)`,
//      returning a Listener whose `connect(makeClient)` gives a Connection
//      with `until(predicate, what)` (let bytes flow until it holds, or fail
//      naming `what`) and `settle()` (let what is in flight arrive).
//      Everything the builder opens must be closed when the test ends
//      (`t.after`). See memory-builders.ts and node-builders.ts.
//   2. Add it to BUILDERS below.
//   3. Run the suite. Where a case fails, either the capability is really
//      missing (declare it false: the case is skipped with its reason) or
//      the transport has a bug (add a `todo` for that builder in the case,
//      and report it).
// A new behaviour is a Behaviour (a list of cases) added to BEHAVIOURS.

import { describe, test } from 'node:test';
import { addresses, callbackErrors } from './addresses-errors.js';
import { type Behaviour, type Case, knownBugs, type TransportBuilder } from './builder.js';
import { abortConnection, disconnectingFlag, loseConnection } from './closing.js';
import { halfClose } from './half-close.js';
import { lifecycle, writes } from './lifecycle.js';
import { iosim, loopback, stringTransport } from './memory-builders.js';
import { tcp, tls, unix } from './node-builders.js';
import { producers } from './producers.js';
import { simulation } from './simulation-builder.js';
import { stdio } from './stdio-builder.js';

const BUILDERS: readonly TransportBuilder[] = [
  stringTransport,
  iosim,
  loopback,
  tcp,
  unix,
  tls,
  stdio,
  simulation,
];

const BEHAVIOURS: readonly Behaviour[] = [
  lifecycle,
  writes,
  loseConnection,
  abortConnection,
  disconnectingFlag,
  halfClose,
  producers,
  addresses,
  callbackErrors,
];

const ONE_SIDED = 'one-sided: StringTransport has no peer to deliver to';

/** Registers `c` for builder `b`: run, skipped with a reason, or todo. */
function register(b: TransportBuilder, c: Case): void {
  const options = { timeout: b.timeout };
  if (b.kind === 'single') {
    const run = c.single;
    const todo = c.todo?.(b);
    if (run === undefined) test(c.name, { skip: c.singleSkip ?? ONE_SIDED }, () => undefined);
    else test(c.name, { ...options, ...(todo === undefined ? {} : { todo }) }, () => run(b));
    return;
  }
  const run = c.pair;
  const skip = run === undefined ? 'no two-sided form' : c.skip?.(b);
  if (skip !== undefined || run === undefined) {
    test(c.name, { skip }, () => undefined);
    return;
  }
  const todo = c.todo?.(b);
  test(c.name, { ...options, ...(todo === undefined ? {} : { todo }) }, (t) => {
    if (todo !== undefined) knownBugs.add(t);
    return run(b, t);
  });
}

for (const builder of BUILDERS) {
  describe(builder.name, () => {
    for (const behaviour of BEHAVIOURS) {
      describe(behaviour.name, () => {
        for (const c of behaviour.cases) register(builder, c);
      });
    }
  });
}
