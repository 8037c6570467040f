// `npm run fuzz`: the HTTP parser's differential checks against node:http
// (test/helpers/http-differential) on many more cases than `npm test` runs.
// Usage: node dist/test/fuzz/http-parser.js [--cases N] [--responses M]
// [--seconds S] [--seed X] [--loopback]
// (default: a million requests and a tenth as many responses, no time bound,
// a seed from the clock; --cases 0 --responses M fuzzes responses only;
// --loopback gives responses to node:http's client over TCP rather than an
// in-memory stream). Each response is read by the bare parser and by the
// whole HTTP11ClientProtocol. Prints each disagreement with its bytes (JSON)
// and the seed and index that replay it
// (`fc.sample(arbitrary, { seed, numRuns: index + 1 })[index]`); exit status
// 1 if there was any.
// Not a *.test.ts file: scripts/run-tests.mjs does not run it.

import { parseArgs } from 'node:util';
import fc from 'fast-check';
import {
  agree,
  clientAgrees,
  describeDisagreement,
  inParallel,
  NodeRequestOracle,
  NodeResponseOracle,
  oursClient,
  oursRequests,
  oursResponse,
  requestStream,
  responseCase,
} from '../helpers/http-differential.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    responses: { type: 'string' },
    loopback: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    seed: { type: 'string' },
  },
});
const cases = Number(values.cases);
const responseTotal =
  values.responses === undefined ? Math.ceil(cases / 10) : Number(values.responses);
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
const responses = new NodeResponseOracle({ over: values.loopback ? 'loopback' : 'memory' });
await requests.start();
await responses.start();
try {
  // Batches of requests, and one of responses per ten of requests, each
  // batch from its own seed (seed + batch number) so that it replays alone.
  for (
    let batch = 0;
    (counts.requests < cases || counts.responses < responseTotal) && Date.now() < deadline;
    batch++
  ) {
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
    // Responses keep pace with requests (or run alone with --cases 0).
    const m = Math.min(
      responseTotal - counts.responses,
      n > 0 ? Math.ceil((n * responseTotal) / cases) : BATCH,
    );
    const answers = fc.sample(responseCase, { seed: batchSeed, numRuns: m });
    await inParallel(answers, CONCURRENCY, async (c, i) => {
      const expected = await responses.parse(c);
      const actual = oursResponse(c.data, c.method);
      const client = oursClient(c.data, c.method);
      const where = `seed ${batchSeed} index ${i}, ${c.method}: `;
      if (!agree(expected, actual)) {
        disagreements++;
        console.log(`response (parser), ${describeDisagreement(c.data, expected, actual, where)}`);
      }
      if (!clientAgrees(expected, actual, client)) {
        disagreements++;
        console.log(`response (client), ${describeDisagreement(c.data, expected, client, where)}`);
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
