// Property tests of the HTTP parser (fast-check, seeded, fixed runs): every
// conformance case split at random points gives the events it gives whole;
// generated valid requests and responses parse back to what was generated,
// pipelined, however they are split; random bytes never throw out of feed().

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { invalidRequests, invalidResponses, validRequests, validResponses } from './_cases.js';
import { bytes, type Event, run, split } from './_parse.js';

const RUNS = 200;
const cases = [...validRequests, ...invalidRequests, ...validResponses, ...invalidResponses];
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe('HttpParser properties', () => {
  test('each conformance case split at random points gives the same events', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), cuts, (c, points) => {
        const data = bytes(c.input);
        const chunks = split(
          data,
          points.map((p) => p % (data.length + 1)),
        );
        assert.deepEqual(run(c.kind, chunks, c).events, c.events, c.name);
      }),
      { seed: 0x7e57_0101, numRuns: RUNS * 5 },
    );
  });

  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
  const value = fc
    .array(
      fc.integer({ min: 0x20, max: 0xff }).filter((b) => b !== 0x7f),
      { maxLength: 20 },
    )
    .map((codes) => String.fromCharCode(...codes).trim());
  const fields = fc
    .array(fc.tuple(token, value), { maxLength: 8 })
    .map((list) => list.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n)));
  const body = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));
  const chunking = fc.array(fc.integer({ min: 1, max: 16 }), { maxLength: 6 });

  /** A message's bytes and the events it must give. */
  interface Generated {
    readonly wire: string;
    readonly events: Event[];
  }

  /** `fieldsList` and `payload`, framed by Content-Length or by chunks cut at `sizes`. */
  function frame(
    start: string,
    fieldsList: [string, string][],
    payload: string,
    sizes: number[] | undefined,
    headEvent: (headers: [string, string][], framing: string) => Event,
  ): Generated {
    const headers: [string, string][] = [...fieldsList];
    let wireBody = '';
    if (sizes === undefined) {
      headers.push(['Content-Length', String(payload.length)]);
      wireBody = payload;
    } else {
      headers.push(['Transfer-Encoding', 'chunked']);
      let at = 0;
      for (const size of [...sizes, payload.length]) {
        const piece = payload.slice(at, at + size);
        if (piece.length === 0) continue;
        wireBody += `${piece.length.toString(16)}\r\n${piece}\r\n`;
        at += piece.length;
      }
      wireBody += '0\r\n\r\n';
    }
    const framing = sizes !== undefined ? 'chunked' : payload.length > 0 ? 'length' : 'none';
    const events: Event[] = [headEvent(headers, framing)];
    if (payload.length > 0) events.push({ body: payload });
    events.push({ complete: [] });
    const head = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
    return { wire: `${start}\r\n${head}\r\n${wireBody}`, events };
  }

  const request = fc
    .tuple(
      token,
      fc.webPath(),
      fc.constantFrom('HTTP/1.0', 'HTTP/1.1'),
      fields,
      body,
      fc.option(chunking),
    )
    .map(([method, path, version, list, payload, sizes]) => {
      const target = `/${path.replace(/^\//, '')}`;
      const chunked = version === 'HTTP/1.1' ? (sizes ?? undefined) : undefined;
      return frame(
        `${method} ${target} ${version}`,
        list,
        payload,
        chunked,
        (headers, framing) => ({
          request: [method, target, version],
          headers,
          framing,
        }),
      );
    });

  test('generated requests, pipelined and split at random, parse back to what was generated', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 4 }), cuts, (messages, points) => {
        const data = bytes(messages.map((m) => m.wire).join(''));
        const chunks = split(
          data,
          points.map((p) => p % (data.length + 1)),
        );
        assert.deepEqual(
          run('request', chunks).events,
          messages.flatMap((m) => m.events),
        );
      }),
      { seed: 0x7e57_0102, numRuns: RUNS },
    );
  });

  const response = fc
    .tuple(fc.integer({ min: 200, max: 599 }), value, fields, body, fc.option(chunking))
    .filter(([status]) => status !== 204 && status !== 304)
    .map(([status, reason, list, payload, sizes]) =>
      frame(
        `HTTP/1.1 ${status} ${reason}`,
        list,
        payload,
        sizes ?? undefined,
        (headers, framing) => ({
          response: ['HTTP/1.1', status, reason],
          headers,
          framing,
        }),
      ),
    );

  test('generated responses, pipelined and split at random, parse back to what was generated', () => {
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 4 }), cuts, (messages, points) => {
        const data = bytes(messages.map((m) => m.wire).join(''));
        const chunks = split(
          data,
          points.map((p) => p % (data.length + 1)),
        );
        assert.deepEqual(
          run('response', chunks).events,
          messages.flatMap((m) => m.events),
        );
      }),
      { seed: 0x7e57_0103, numRuns: RUNS },
    );
  });

  test('random bytes and mutated requests never throw; an error is the last event', () => {
    const mutated = fc
      .tuple(
        request,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      )
      .map(([m, edits]) => {
        const data = bytes(m.wire);
        for (const [at, b] of edits) if (data.length > 0) data[at % data.length] = b;
        return data;
      });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      mutated,
    );
    fc.assert(
      fc.property(input, cuts, fc.boolean(), (data, points, response) => {
        const chunks = split(
          data,
          points.map((p) => p % (data.length + 1)),
        );
        const { events } = run(response ? 'response' : 'request', chunks, { finish: true });
        const errors = events.findIndex((e) => 'error' in e);
        assert.ok(errors === -1 || errors === events.length - 1, 'nothing after an error');
        const whole = run(response ? 'response' : 'request', [data], { finish: true }).events;
        assert.deepEqual(events, whole, 'the split does not matter');
      }),
      { seed: 0x7e57_0104, numRuns: RUNS * 5 },
    );
  });
});
