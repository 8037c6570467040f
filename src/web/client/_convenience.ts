// Internal: what getPage and HTTPClient share: headers from a record, a body
// producer from bytes or a string, the global reactor loaded lazily, and a
// whole body read that accepts one ended by the connection close.
// Tests: test/unit/web/client-get-page.test.ts, test/unit/web/client-http-client.test.ts

import { Deferred, succeed } from '../../internet/defer.js';
import type { Failure } from '../../internet/failure.js';
import type { IReactorTime } from '../../internet/interfaces.js';
import { globalReactor } from '../../internet/task/_global-reactor.js';
import { Cooperator } from '../../internet/task/cooperator.js';
import { Headers } from '../headers.js';
import type { IBodyProducer } from './client-protocol.js';
import { PartialDownloadError } from './errors.js';
import { FileBodyProducer } from './file-body-producer.js';
import type { HeadersLike } from './get-page.js';
import { type Response, readBody } from './response.js';

/** A copy of `init` as `Headers` (`undefined` stays `undefined`). */
export function headersFrom(init: HeadersLike | undefined): Headers | undefined {
  if (init === undefined) return undefined;
  if (init instanceof Headers) return init.copy();
  const headers = new Headers();
  for (const [name, value] of Object.entries(init)) {
    if (typeof value === 'string') headers.addRawHeader(name, value);
    else for (const v of value as readonly string[]) headers.addRawHeader(name, v);
  }
  return headers;
}

/** A Cooperator whose steps run on `clock`, or the module-wide one when there is none. */
export function cooperatorFor(
  clock: IReactorTime | undefined,
): Pick<Cooperator, 'cooperate'> | undefined {
  if (clock === undefined) return undefined;
  return new Cooperator({ scheduler: (step) => clock.callLater(0, step) });
}

/** A producer for `body`: bytes and strings (UTF-8) through a replayable {@link FileBodyProducer}. */
export function producerFrom(
  body: Uint8Array | string | IBodyProducer | undefined,
  clock: IReactorTime | undefined,
): IBodyProducer | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  const cooperator = cooperatorFor(clock);
  return new FileBodyProducer(body, cooperator === undefined ? {} : { cooperator });
}

/** `given`, or the global reactor, loaded on first use. */
export function reactorOr<R>(
  given: R | undefined,
): Deferred<R | Awaited<ReturnType<typeof globalReactor>>> {
  if (given !== undefined) return succeed(given);
  return Deferred.fromPromise(globalReactor());
}

/**
 * The whole body of `response`; a body that ended with the connection and
 * declared no length counts as whole (as browsers and treq take it).
 */
export function readWholeBody(response: Response, maxSize?: number): Deferred<Uint8Array> {
  return readBody(response, maxSize === undefined ? {} : { maxSize }).addErrback(
    (failure: Failure) => {
      const partial = failure.check(PartialDownloadError);
      if (partial === null) return failure;
      return (failure.value as PartialDownloadError).response;
    },
  );
}
