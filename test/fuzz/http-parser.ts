// `npm run fuzz`: the HTTP parser's differential checks against node:http
// (test/helpers/http-differential) on many more cases than `npm test` runs.
// Usage: node dist/test/fuzz/http-parser.js [--cases N] [--seconds S] [--seed X]
// (default: a million requests and a tenth as many responses, no time bound,
// a seed from the clock). Prints each disagreement with its bytes (JSON) and
// the seed and index that replay it; exit status 1 if there was any.
// Not a *.test.ts file: scripts/run-tests.mjs does not run it.

import { parseArgs } from 'node:util';
import fc from 'fast-check';
import {
  agree,
  describeDisagreement,
  inParallel,
  NodeRequestOracle,
  NodeResponseOracle,
  oursRequests,
  oursResponse,
  requestStream,
  responseCase,
} from '../helpers/http-differential.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
  },
});
const cases = Number(values.cases);
const deadline =
  values.seconds === undefined
    ? Number.POSITIVE_INFINITY
    : Date.now() + Number(values.seconds) * 1000;
const seed = values.seed === undefined ? Date.now() % 0x7fff_ffff : Number(values.seed);
const BATCH = 2000;
const CONCURRENCY = 16;

let disagreements = 0;
const counts = { requests: 0, responses: 0 };
const requests = new NodeRequestOracle();
const responses = new NodeResponseOracle();
await requests.start();
await responses.start();
try {
  // Batches of requests, and one of responses per ten of requests, each
  // batch from its own seed (seed + batch number) so that it replays alone.
  for (let batch = 0; counts.requests < cases && Date.now() < deadline; batch++) {
    const batchSeed = seed + batch;
    const n = Math.min(BATCH, cases - counts.requests);
    const inputs = fc.sample(requestStream, { seed: batchSeed, numRuns: n });
    await inParallel(inputs, CONCURRENCY, async (data, i) => {
      const expected = await requests.parse(data);
      const actual = oursRequests(data);
      if (!agree(expected, actual)) {
        disagreements++;
        console.log(
          `request, seed ${batchSeed} index ${i}: ${describeDisagreement(data, expected, actual)}`,
        );
      }
    });
    counts.requests += n;
    const m = Math.ceil(n / 10);
    const answers = fc.sample(responseCase, { seed: batchSeed, numRuns: m });
    await inParallel(answers, CONCURRENCY, async (c, i) => {
      const expected = await responses.parse(c);
      const actual = oursResponse(c.data, c.method);
      if (!agree(expected, actual)) {
        disagreements++;
        console.log(
          `response, seed ${batchSeed} index ${i}: ${describeDisagreement(c.data, expected, actual, `${c.method}: `)}`,
        );
      }
    });
    counts.responses += m;
  }
} finally {
  await requests.stop();
  await responses.stop();
}
console.log(
  `${counts.requests} requests and ${counts.responses} responses from seed ${seed} (batches of ${BATCH}, seed + batch number): ${disagreements} disagreements`,
);
process.exitCode = disagreements > 0 ? 1 : 0;
