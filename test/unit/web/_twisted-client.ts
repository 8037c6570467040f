// Test support for the ports of Twisted's HTTP client tests
// (twisted-newclient*.test.ts): an HTTP11ClientProtocol on a StringTransport,
// Twisted's AccumulatingProtocol and StringProducer, and its
// assertWrapperExceptionTypes.

import assert from 'node:assert/strict';
import { Deferred } from '../../../src/internet/defer.js';
import type { Failure } from '../../../src/internet/failure.js';
import type { IConsumer, IPushProducer } from '../../../src/internet/interfaces.js';
import { failureResultOf } from '../../../src/testing/deferred-asserts.js';
import { StringTransport } from '../../../src/testing/string-transport.js';
import {
  HTTP11ClientProtocol,
  type IBodyProducer,
} from '../../../src/web/client/client-protocol.js';
import type { Response } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';
import type { IBodyReader } from '../../../src/web/request-body.js';

/** Twisted's ArbitraryException: an error the client knows nothing about. */
export class ArbitraryError extends Error {
  override name = 'ArbitraryError';
}

/** Twisted's AnotherArbitraryException. */
export class AnotherArbitraryError extends Error {
  override name = 'AnotherArbitraryError';
}

/** Twisted's `_boringHeaders`: just a Host (a new copy each time). */
export function boringHeaders(): Headers {
  return new Headers({ host: ['example.com'] });
}

/** A client protocol connected to a StringTransport, as Twisted's setUp makes one. */
export interface Connected {
  readonly protocol: HTTP11ClientProtocol;
  readonly transport: StringTransport;
  /** Delivers `data` (latin1) to the protocol. */
  feed(data: string): void;
  /** What was written, as latin1. */
  written(): string;
}

export function connected(
  options: { quiescent?: (p: HTTP11ClientProtocol) => void; lenient?: boolean } = {},
): Connected {
  const protocol = new HTTP11ClientProtocol(options.quiescent);
  const transport = new StringTransport({ lenient: options.lenient ?? false });
  protocol.makeConnection(transport);
  return {
    protocol,
    transport,
    feed: (data) => protocol.dataReceived(Buffer.from(data, 'latin1')),
    written: () => transport.value().toString('latin1'),
  };
}

/** Twisted's `Request(b"GET", b"/", _boringHeaders, None)`, sent. */
export function get(
  protocol: HTTP11ClientProtocol,
  options: { method?: string; persistent?: boolean; bodyProducer?: IBodyProducer } = {},
): Deferred<Response> {
  return protocol.request({
    method: options.method ?? 'GET',
    target: '/',
    headers: boringHeaders(),
    persistent: options.persistent ?? false,
    bodyProducer: options.bodyProducer,
  });
}

/** Twisted's AccumulatingProtocol as a body reader: the data, the reason, the producer. */
export class Accumulating implements IBodyReader {
  data = '';
  reason: Failure | undefined;
  producer: IPushProducer | undefined;
  /** Called from connectionLost (Twisted's closedDeferred). */
  onClose: ((reason: Failure) => void) | undefined;
  makeConnection(producer: IPushProducer): void {
    this.producer = producer;
  }
  dataReceived(data: Uint8Array): void {
    this.data += Buffer.from(data).toString('latin1');
  }
  connectionLost(reason: Failure): void {
    this.reason = reason;
    this.onClose?.(reason);
  }
}

/**
 * Twisted's StringProducer: a body producer of a given length whose
 * `startProducing` Deferred the test fires; records `stopProducing`.
 */
export class StringProducer implements IBodyProducer {
  stopped = false;
  consumer: IConsumer | undefined;
  finished: Deferred<void> | undefined;
  constructor(readonly length: number | undefined) {}
  startProducing(consumer: IConsumer): Deferred<void> {
    this.consumer = consumer;
    this.finished = new Deferred<void>();
    return this.finished;
  }
  stopProducing(): void {
    this.stopped = true;
  }
  pauseProducing(): void {}
  resumeProducing(): void {}
  /** Writes `data` (latin1) to the consumer. */
  write(data: string): void {
    (this.consumer as IConsumer).write(Buffer.from(data, 'latin1'));
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Twisted's assertWrapperExceptionTypes: `deferred` failed with `mainType`,
 * whose `reasons` match `reasonTypes` one for one.
 */
export function assertWrapped<T extends Error & { reasons: readonly Failure[] }>(
  deferred: Deferred<unknown>,
  mainType: abstract new (...args: never[]) => T,
  reasonTypes: readonly ErrorClass[],
): T {
  const failure = failureResultOf(deferred, mainType);
  const error = failure.value as T;
  assert.equal(
    error.reasons.length,
    reasonTypes.length,
    `reasons: ${error.reasons.map((r) => r.type?.name).join(', ')}`,
  );
  error.reasons.forEach((reason, i) => {
    const type = reasonTypes[i] as ErrorClass;
    assert.ok(reason.check(type) !== null, `reason ${i}: ${reason.type?.name}, not ${type.name}`);
  });
  return error;
}
