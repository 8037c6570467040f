// The HTTP parser under forAllChunkings: every conformance case (valid and
// invalid requests and responses, test/unit/web/_cases.ts) reports the same
// events for every split of its input (all splits up to 12 bytes, the fixed
// chunk sizes and seeded random splits beyond) as for the whole input.

import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import { forAllChunkings } from 'torsion/testing';
import {
  type Case,
  invalidRequests,
  invalidResponses,
  validRequests,
  validResponses,
} from './_cases.js';
import { bytes, run } from './_parse.js';

/** Keeps the chunks a run delivers; the parser is run over them afterwards. */
class Chunks extends Protocol {
  readonly chunks: Buffer[] = [];
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }
}

function check(c: Case): void {
  forAllChunkings(
    () => new Chunks(),
    bytes(c.input),
    (p) => run(c.kind, p.chunks, c).events,
    { count: 40, seed: 0x5eed },
  );
}

const groups: [string, Case[]][] = [
  ['valid requests', validRequests],
  ['invalid requests', invalidRequests],
  ['valid responses', validResponses],
  ['invalid responses', invalidResponses],
];
for (const [group, cases] of groups) {
  describe(`HttpParser under every split: ${group}`, () => {
    for (const c of cases) test(c.name, () => check(c));
  });
}

describe('HttpParser under every split: pipelining and bodies', () => {
  const pipelined: Case = {
    name: 'three pipelined requests, a fixed-length body, a chunked one with trailers',
    kind: 'request',
    input:
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
      'PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n',
    events: [],
  };
  test(pipelined.name, () => check(pipelined));

  const responses: Case = {
    name: 'a 100 Continue, a 200 with a body, a HEAD response, then a close-delimited one',
    kind: 'response',
    methods: ['POST', 'HEAD', 'GET'],
    finish: true,
    input:
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' +
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' +
      'HTTP/1.0 200 OK\r\n\r\nuntil the end',
    events: [],
  };
  test(responses.name, () => check(responses));
});
