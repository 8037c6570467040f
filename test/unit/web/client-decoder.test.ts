// ContentDecoderAgent over a recording agent: the Accept-Encoding it sends,
// which responses it wraps and how their headers change, and the decoded
// bodies (gzip, deflate both ways, br, stacked codings), their failures and
// their backpressure. Ports Twisted's ContentDecoderAgentTests and
// ContentDecoderAgentWithGzipTests (test_agent.py).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { Deferred } from '../../../src/internet/defer.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/capture.js';
import { successResultOf } from '../../../src/testing/deferred-asserts.js';
import type { IAgent } from '../../../src/web/client/agent.js';
import type { IBodyProducer } from '../../../src/web/client/client-protocol.js';
import {
  ContentDecoderAgent,
  DecodedResponse,
  type IContentDecoder,
} from '../../../src/web/client/content-decoder.js';
import { PotentialDataLoss, ResponseDone, ResponseFailed } from '../../../src/web/client/errors.js';
import { Response, readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';

interface Sent {
  method: string;
  uri: string;
  headers: Headers | undefined;
  result: Deferred<Response>;
}

/** An agent that records each request and lets the test answer it. */
class RecordingAgent implements IAgent {
  readonly requests: Sent[] = [];
  request(
    method: string,
    uri: string,
    headers?: Headers,
    _bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    const result = new Deferred<Response>();
    this.requests.push({ method, uri, headers, result });
    return result;
  }
}

/** The producer of a fake connection: records what the body reader asks. */
class RecordingProducer implements IPushProducer {
  events: string[] = [];
  pauseProducing(): void {
    this.events.push('pause');
  }
  resumeProducing(): void {
    this.events.push('resume');
  }
  stopProducing(): void {
    this.events.push('stop');
  }
}

function makeResponse(
  headers: Record<string, string[]>,
  length?: number,
): { response: Response; producer: RecordingProducer } {
  const producer = new RecordingProducer();
  const response = new Response('HTTP/1.1', 200, 'OK', new Headers(headers), length, producer);
  response.request = {
    method: 'GET',
    absoluteURI: 'http://example.com/foo',
    headers: new Headers(),
  };
  return { response, producer };
}

/** A body reader collecting chunks; `finished` fires with the reason. */
class Collector {
  chunks: Buffer[] = [];
  producer: IPushProducer | undefined;
  made = false;
  reason: Failure | undefined;
  #resolve: (reason: Failure) => void = () => {};
  /** Fires with the reason (a Promise: a Deferred would take a Failure for an error). */
  readonly finished = new Promise<Failure>((resolve) => {
    this.#resolve = resolve;
  });
  makeConnection(producer: IPushProducer): void {
    this.made = true;
    this.producer = producer;
  }
  dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }
  connectionLost(reason: Failure): void {
    assert.equal(this.reason, undefined, 'connectionLost came twice');
    this.reason = reason;
    this.#resolve(reason);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

const done = (): Failure => new Failure(new ResponseDone());

/** Sends a request through `agent` and answers it with `response`. */
function answer(
  recorder: RecordingAgent,
  agent: IAgent,
  response: Response,
  uri = 'http://example.com/foo',
): Response {
  const d = agent.request('GET', uri);
  const sent = recorder.requests.pop() as Sent;
  sent.result.callback(response);
  return successResultOf(d);
}

const decoder = (name: string): IContentDecoder => ({
  name,
  createStream: () => new Transform({ transform: (c, _e, cb) => cb(null, c) }),
});

describe('ContentDecoderAgent: the request', () => {
  test('Accept-Encoding names the decoders, in order', () => {
    const recorder = new RecordingAgent();
    const agent = new ContentDecoderAgent(recorder, {
      decoders: [decoder('decoder1'), decoder('decoder2')],
    });
    agent.request('GET', 'http://example.com/foo');
    assert.equal(recorder.requests.length, 1);
    assert.deepEqual(recorder.requests[0]?.headers?.getRawHeaders('accept-encoding'), [
      'decoder1, decoder2',
    ]);
  });

  test('by default it asks for gzip, deflate and br', () => {
    const recorder = new RecordingAgent();
    new ContentDecoderAgent(recorder).request('GET', 'http://example.com/');
    assert.deepEqual(recorder.requests[0]?.headers?.getRawHeaders('Accept-Encoding'), [
      'gzip, deflate, br',
    ]);
  });

  test("an existing Accept-Encoding is kept and the decoders' added as another field; the caller's headers are not changed", () => {
    const recorder = new RecordingAgent();
    const agent = new ContentDecoderAgent(recorder, {
      decoders: [decoder('decoder1'), decoder('decoder2')],
    });
    const given = new Headers({ foo: ['bar'], 'accept-encoding': ['fizz'] });
    agent.request('GET', 'http://example.com/foo', given);
    const sent = recorder.requests[0]?.headers as Headers;
    assert.deepEqual(sent.getRawHeaders('accept-encoding'), ['fizz', 'decoder1, decoder2']);
    assert.deepEqual(sent.getRawHeaders('foo'), ['bar']);
    assert.deepEqual(given.getRawHeaders('accept-encoding'), ['fizz']);
  });

  test('two decoders with one name, or a name that is not a token, are refused', () => {
    const recorder = new RecordingAgent();
    assert.throws(
      () => new ContentDecoderAgent(recorder, { decoders: [decoder('gzip'), decoder('GZIP')] }),
      /two content decoders are named "GZIP"/,
    );
    assert.throws(
      () => new ContentDecoderAgent(recorder, { decoders: [decoder('a b')] }),
      /must be a token/,
    );
  });
});

describe('ContentDecoderAgent: which responses are decoded', () => {
  const agentWith = (): { recorder: RecordingAgent; agent: ContentDecoderAgent } => {
    const recorder = new RecordingAgent();
    return {
      recorder,
      agent: new ContentDecoderAgent(recorder, {
        decoders: [decoder('decoder1'), decoder('decoder2')],
      }),
    };
  };

  test('a response without Content-Encoding is passed on as it is', () => {
    const { recorder, agent } = agentWith();
    const { response } = makeResponse({});
    assert.equal(answer(recorder, agent, response), response);
  });

  test('a response in an unknown coding is passed on as it is', () => {
    const { recorder, agent } = agentWith();
    const { response } = makeResponse({ foo: ['bar'], 'content-encoding': ['fizz'] });
    assert.equal(answer(recorder, agent, response), response);
  });

  test('decoding stops at the first unknown coding from the end, which stays in Content-Encoding', () => {
    const { recorder, agent } = agentWith();
    const { response } = makeResponse({
      foo: ['bar'],
      'content-encoding': ['decoder1,fizz,decoder2'],
    });
    const result = answer(recorder, agent, response);
    assert.ok(result instanceof DecodedResponse);
    assert.notEqual(result, response);
    assert.deepEqual(result.decodedCodings, ['decoder2']);
    assert.deepEqual(result.headers.getRawHeaders('content-encoding'), ['decoder1, fizz']);
    assert.deepEqual(response.headers.getRawHeaders('content-encoding'), [
      'decoder1,fizz,decoder2',
    ]);
  });

  test('codings are matched without regard to case, across several fields, and x-gzip is gzip', () => {
    const recorder = new RecordingAgent();
    const agent = new ContentDecoderAgent(recorder);
    const { response } = makeResponse({ 'Content-Encoding': ['X-GZIP', ' Deflate , br'] });
    const result = answer(recorder, agent, response) as DecodedResponse;
    assert.deepEqual(result.decodedCodings, ['br', 'deflate', 'gzip']);
    assert.equal(result.headers.hasHeader('content-encoding'), false);
  });

  test('the decoded response keeps the status and the request, drops Content-Length, and has no length', () => {
    const recorder = new RecordingAgent();
    const agent = new ContentDecoderAgent(recorder);
    const { response } = makeResponse(
      { foo: ['bar'], 'content-encoding': ['gzip'], 'content-length': ['12'] },
      12,
    );
    const result = answer(recorder, agent, response) as DecodedResponse;
    assert.equal(result.version, 'HTTP/1.1');
    assert.equal(result.code, 200);
    assert.equal(result.phrase, 'OK');
    assert.equal(result.length, undefined);
    assert.equal(result.original, response);
    assert.equal(result.request, response.request);
    assert.deepEqual([...result.headers], [['foo', ['bar']]]);
  });
});

/** Twisted's gzip fixture: "x" * 6 + "y" * 4 compressed in two calls. */
function gzipped(text: string): Buffer {
  return zlib.gzipSync(Buffer.from(text, 'latin1'), { level: 2 });
}

function decodedOf(
  headers: Record<string, string[]>,
  options: ConstructorParameters<typeof ContentDecoderAgent>[1] = {},
): { result: DecodedResponse; response: Response; producer: RecordingProducer } {
  const recorder = new RecordingAgent();
  const agent = new ContentDecoderAgent(recorder, options);
  const { response, producer } = makeResponse(headers);
  const result = answer(recorder, agent, response);
  assert.ok(result instanceof DecodedResponse);
  return { result, response, producer };
}

/**
 * A gzip decoder whose zlib streams the test can watch, and a wait for the
 * definite state in which zlib can do no more: its output buffer full (the
 * reader takes nothing) and its input backed up. A paused reader that has
 * nothing then really was held back.
 */
function watchedGzip(): { decoders: IContentDecoder[]; zlibStalled(): Promise<void> } {
  const streams: zlib.Gunzip[] = [];
  const decoder: IContentDecoder = {
    name: 'gzip',
    createStream() {
      const stream = zlib.createGunzip();
      streams.push(stream);
      return stream;
    },
  };
  const stalled = (): boolean =>
    streams.some(
      (stream) => stream.readableLength >= stream.readableHighWaterMark && stream.writableNeedDrain,
    );
  return {
    decoders: [decoder],
    async zlibStalled() {
      for (let turn = 0; turn < 100_000; turn++) {
        if (stalled()) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('zlib never stalled');
    },
  };
}

describe('ContentDecoderAgent: decoded bodies', () => {
  test('a gzip body arriving before the reader comes is decoded whole (Twisted test_gzipEncodingResponse)', async () => {
    const { result, response } = decodedOf({ foo: ['bar'], 'content-encoding': ['gzip'] });
    const data = gzipped('xxxxxxyyyy');
    response._bodyDataReceived(data.subarray(0, 5));
    response._bodyDataReceived(data.subarray(5));
    response._bodyDataFinished(done());
    const reader = new Collector();
    result.deliverBody(reader);
    assert.equal(reader.made, true);
    const reason = await reader.finished;
    assert.ok(reason.check(ResponseDone));
    assert.equal(reader.text(), 'xxxxxxyyyy');
  });

  test('a gzip body streamed a byte at a time is decoded', async () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    const reader = new Collector();
    result.deliverBody(reader);
    const text = 'hello, '.repeat(500);
    for (const byte of gzipped(text)) response._bodyDataReceived(Uint8Array.of(byte));
    response._bodyDataFinished(done());
    assert.ok((await reader.finished).check(ResponseDone));
    assert.equal(reader.text(), text);
  });

  test('deflate is decoded whether zlib-wrapped or raw', async () => {
    const text = 'deflated '.repeat(100);
    for (const data of [zlib.deflateSync(text), zlib.deflateRawSync(text)]) {
      const { result, response } = decodedOf({ 'content-encoding': ['deflate'] });
      const reader = new Collector();
      result.deliverBody(reader);
      response._bodyDataReceived(data.subarray(0, 1));
      response._bodyDataReceived(data.subarray(1));
      response._bodyDataFinished(done());
      assert.ok((await reader.finished).check(ResponseDone));
      assert.equal(reader.text(), text);
    }
  });

  test('br is decoded', async () => {
    const text = 'brotli '.repeat(100);
    const { result, response } = decodedOf({ 'content-encoding': ['br'] });
    response._bodyDataReceived(zlib.brotliCompressSync(text));
    response._bodyDataFinished(done());
    assert.equal(Buffer.from(await readBody(result)).toString(), text);
  });

  test('stacked codings are undone from the last applied (gzip, then br)', async () => {
    const text = 'twice '.repeat(100);
    const { result, response } = decodedOf({ 'content-encoding': ['gzip, br'] });
    assert.deepEqual(result.decodedCodings, ['br', 'gzip']);
    response._bodyDataReceived(zlib.brotliCompressSync(zlib.gzipSync(text)));
    response._bodyDataFinished(done());
    assert.equal(Buffer.from(await readBody(result)).toString(), text);
  });

  test('a custom decoder gets every chunk, and what it flushes at the end comes last (Twisted test_flushData)', async () => {
    const xy: IContentDecoder = {
      name: 'xy',
      createStream: () =>
        new Transform({
          transform: (_chunk, _encoding, callback) => callback(null, 'x'),
          flush: (callback) => callback(null, 'y'),
        }),
    };
    const { result, response } = decodedOf({ 'content-encoding': ['xy'] }, { decoders: [xy] });
    response._bodyDataReceived(Buffer.from('data'));
    response._bodyDataFinished(done());
    const reader = new Collector();
    result.deliverBody(reader);
    assert.ok((await reader.finished).check(ResponseDone));
    assert.deepEqual(
      reader.chunks.map((c) => c.toString()),
      ['x', 'y'],
    );
  });

  test('a decoder failing at the end fails the body with ResponseFailed (Twisted test_flushError)', async () => {
    const failing: IContentDecoder = {
      name: 'xy',
      createStream: () =>
        new Transform({
          transform: (_chunk, _encoding, callback) => callback(null, 'x'),
          flush: (callback) => callback(new Error('flush failed')),
        }),
    };
    const { result, response } = decodedOf({ 'content-encoding': ['xy'] }, { decoders: [failing] });
    response._bodyDataReceived(Buffer.from('data'));
    response._bodyDataFinished(done());
    const reader = new Collector();
    result.deliverBody(reader);
    const reason = await reader.finished;
    const error = reason.value as ResponseFailed;
    assert.ok(error instanceof ResponseFailed);
    assert.match(
      error.message,
      /^GET http:\/\/example\.com\/foo: the response body is not valid xy: flush failed$/,
    );
    assert.equal(reader.text(), 'x');
  });

  test('a body that is not gzip fails with ResponseFailed naming the coding and the URL, and the connection is closed (Twisted test_brokenContent)', async () => {
    const { result, response, producer } = decodedOf({ 'content-encoding': ['gzip'] });
    response._bodyDataReceived(Buffer.from('not gzipped content'));
    const reader = new Collector();
    result.deliverBody(reader);
    const reason = await reader.finished;
    const error = reason.value as ResponseFailed;
    assert.ok(error instanceof ResponseFailed);
    assert.match(
      error.message,
      /GET http:\/\/example\.com\/foo: the response body is not valid gzip: incorrect header check/,
    );
    const zlibError = error.reasons[0]?.value as NodeJS.ErrnoException | undefined;
    assert.equal(zlibError?.code, 'Z_DATA_ERROR');
    assert.ok(producer.events.includes('stop'));
    // What arrives after is ignored, and the reader is not told twice.
    response._bodyDataFinished(new Failure(new ResponseFailed([])));
    assert.equal(reader.chunks.length, 0);
  });

  test('a truncated gzip body fails when the body ends', async () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    const reader = new Collector();
    result.deliverBody(reader);
    const data = gzipped('truncated '.repeat(50));
    response._bodyDataReceived(data.subarray(0, data.length - 6));
    response._bodyDataFinished(done());
    const error = (await reader.finished).value as ResponseFailed;
    assert.ok(error instanceof ResponseFailed);
    assert.match(error.message, /not valid gzip: unexpected end of file/);
  });

  test('an empty body with a Content-Encoding (HEAD, 304) ends cleanly with nothing', async () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    response._bodyDataFinished(done());
    const reader = new Collector();
    result.deliverBody(reader);
    assert.ok((await reader.finished).check(ResponseDone));
    assert.equal(reader.chunks.length, 0);
  });

  test('a body that ends with the connection keeps PotentialDataLoss, after the decoded data', async () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    const reader = new Collector();
    result.deliverBody(reader);
    response._bodyDataReceived(gzipped('abc'));
    response._bodyDataFinished(new Failure(new PotentialDataLoss()));
    assert.ok((await reader.finished).check(PotentialDataLoss));
    assert.equal(reader.text(), 'abc');
  });

  test('a connection failure is passed on as it is', async () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    const reader = new Collector();
    result.deliverBody(reader);
    const failed = new ResponseFailed([new Failure(new Error('connection reset'))]);
    response._bodyDataReceived(gzipped('abc').subarray(0, 4));
    response._bodyDataFinished(new Failure(failed));
    assert.equal((await reader.finished).value, failed);
  });

  test('past maxDecodedSize the body fails with a RangeError and the connection is closed', async () => {
    const { result, response, producer } = decodedOf(
      { 'content-encoding': ['gzip'] },
      { maxDecodedSize: 1000 },
    );
    const reader = new Collector();
    result.deliverBody(reader);
    response._bodyDataReceived(zlib.gzipSync(Buffer.alloc(1024 * 1024)));
    const error = (await reader.finished).value as ResponseFailed;
    assert.ok(error instanceof ResponseFailed);
    assert.ok(error.reasons[0]?.value instanceof RangeError);
    assert.match(error.message, /larger than 1000 bytes/);
    assert.ok(producer.events.includes('stop'));
    assert.ok(Buffer.concat(reader.chunks).length <= 1000);
  });

  test('the encoded body is only read once the decoded one is', () => {
    const { result, response } = decodedOf({ 'content-encoding': ['gzip'] });
    // Until then the original has no reader: deliverBody on it still works.
    assert.doesNotThrow(() => result.original.deliverBody(new Collector()));
    assert.throws(() => response.deliverBody(new Collector()), /already has a protocol/);
  });

  test('a second deliverBody throws', () => {
    const { result } = decodedOf({ 'content-encoding': ['gzip'] });
    result.deliverBody(new Collector());
    assert.throws(() => result.deliverBody(new Collector()), /already has a protocol/);
  });

  test('a reader that stops the body closes the connection and is told once', async () => {
    const { result, response, producer } = decodedOf({ 'content-encoding': ['gzip'] });
    const reader = new Collector();
    result.deliverBody(reader);
    response._bodyDataReceived(gzipped('abc').subarray(0, 5));
    reader.producer?.stopProducing();
    assert.deepEqual(
      producer.events.filter((e) => e === 'stop'),
      ['stop'],
    );
    assert.equal(reader.reason, undefined);
    const stopped = new Failure(new ResponseFailed([new Failure(new Error('stopped'))]));
    response._bodyDataFinished(stopped);
    assert.equal(await reader.finished, stopped);
  });

  test('a reader throwing from dataReceived is logged, its body fails and the connection is closed; the process goes on', async () => {
    const logs = captureLogs();
    try {
      const { result, response, producer } = decodedOf({ 'content-encoding': ['gzip'] });
      const reader = new Collector();
      reader.dataReceived = () => {
        throw new Error('reader bug');
      };
      result.deliverBody(reader);
      response._bodyDataReceived(gzipped('abc'));
      const error = (await reader.finished).value as ResponseFailed;
      assert.ok(error instanceof ResponseFailed);
      assert.equal((error.reasons[0]?.value as Error | undefined)?.message, 'reader bug');
      assert.ok(producer.events.includes('stop'));
      assert.ok(
        logs.events.some(
          (e) => (e.log_failure?.value as Error | undefined)?.message === 'reader bug',
        ),
      );
    } finally {
      logs.stop();
    }
  });

  test('a paused reader pauses decompression and then the connection; resuming delivers the rest', async () => {
    const plain = randomBytes(512 * 1024);
    const data = zlib.gzipSync(plain);
    const gzip = watchedGzip();
    const { result, response, producer } = decodedOf(
      { 'content-encoding': ['gzip'] },
      { decoders: gzip.decoders },
    );
    // Feed the body as a connection would: stop while told to pause, go on
    // (a turn later) when told to resume.
    let offset = 0;
    let ended = false;
    const feed = (): void => {
      while (offset < data.length && producer.events.at(-1) !== 'pause') {
        response._bodyDataReceived(data.subarray(offset, offset + 16 * 1024));
        offset += 16 * 1024;
      }
      if (offset >= data.length && !ended) {
        ended = true;
        response._bodyDataFinished(done());
      }
    };
    const recordResume = producer.resumeProducing.bind(producer);
    producer.resumeProducing = () => {
      recordResume();
      setImmediate(feed);
    };
    const reader = new Collector();
    result.deliverBody(reader);
    reader.producer?.pauseProducing();
    feed();
    assert.equal(producer.events.at(-1), 'pause');
    // Once zlib can do no more, the paused reader has none of its output and
    // the connection is paused with most of the body unsent.
    await gzip.zlibStalled();
    assert.equal(reader.chunks.length, 0);
    assert.equal(producer.events.at(-1), 'pause');
    assert.ok(offset < 128 * 1024, `${offset} bytes read while the reader was paused`);
    reader.producer?.resumeProducing();
    assert.ok((await reader.finished).check(ResponseDone));
    assert.ok(Buffer.concat(reader.chunks).equals(plain));
  });

  test('a decompression bomb read by a paused reader holds little memory', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const gzip = watchedGzip();
    const { result, response } = decodedOf(
      { 'content-encoding': ['gzip'] },
      { decoders: gzip.decoders },
    );
    const reader = new Collector();
    result.deliverBody(reader);
    reader.producer?.pauseProducing();
    response._bodyDataReceived(bomb);
    await gzip.zlibStalled();
    assert.ok(Buffer.concat(reader.chunks).length <= 64 * 1024);
    reader.producer?.stopProducing();
  });
});

describe('ContentDecoderAgent: properties', () => {
  const encoders: Record<string, (data: Buffer) => Buffer> = {
    gzip: (data) => zlib.gzipSync(data),
    deflate: (data) => zlib.deflateSync(data),
    'raw deflate': (data) => zlib.deflateRawSync(data),
    br: (data) => zlib.brotliCompressSync(data),
  };

  test('any body, encoded by any stack of codings and cut anywhere, decodes to itself', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.constantFrom(...Object.keys(encoders)), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (plain, codings, cuts) => {
          let data: Buffer = Buffer.from(plain);
          for (const coding of codings) data = (encoders[coding] as (d: Buffer) => Buffer)(data);
          const header = codings.map((c) => (c === 'raw deflate' ? 'deflate' : c)).join(', ');
          const { result, response } = decodedOf({ 'content-encoding': [header] });
          const reader = new Collector();
          result.deliverBody(reader);
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          let start = 0;
          for (const point of [...points, data.length]) {
            response._bodyDataReceived(data.subarray(start, point));
            start = point;
          }
          response._bodyDataFinished(done());
          const reason = await reader.finished;
          assert.ok(reason.check(ResponseDone), String(reason.value));
          assert.ok(Buffer.concat(reader.chunks).equals(Buffer.from(plain)));
        },
      ),
      { seed: 13, numRuns: 100 },
    );
  });
});
