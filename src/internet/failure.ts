// Failure: a thrown value captured so that it can travel through errbacks
// (Twisted: twisted.python.failure).
// Tests: test/unit/internet/failure.test.ts

import { inspect } from 'node:util';
import { isNativeError } from 'node:util/types';

/**
 * A class that thrown values may be instances of: anything `instanceof` can
 * test, such as `Error`, `TypeError` or your own error classes.
 *
 * @since 0.1.0
 */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/**
 * What {@link Failure.check} and {@link Failure.trap} accept: a class, or the
 * name of a class anywhere in the value's prototype chain (`'TypeError'`),
 * which also matches across realms and package copies.
 *
 * @since 0.1.0
 */
export type ErrorMatcher = ErrorClass | string;

/** How much {@link Failure.getTraceback} shows. */
export type TracebackDetail = 'brief' | 'default' | 'verbose';

/**
 * A thrown value, captured so that it can be passed to errbacks, logged and
 * re-thrown.
 *
 * @remarks
 * Any value can be thrown in JavaScript, so a Failure wraps any value, not
 * only `Error`s. For an `Error` the traceback is the error's own stack, which
 * shows where it was created; for other values the Failure records the stack
 * at the point where it was made, which is where the value was caught.
 *
 * Differences from Twisted: there is no "current exception" in JavaScript, so
 * the value is always passed explicitly; `cleanFailure()` and frame capture
 * are not needed, since a JavaScript stack is a string.
 *
 * @example
 * ```ts
 * d.addErrback((failure) => {
 *   failure.trap(ConnectionRefusedError); // any other error goes on down the chain
 *   return fallback;
 * });
 * ```
 *
 * @see Twisted: twisted.python.failure.Failure
 * @since 0.1.0
 */
export class Failure {
  /** The thrown value: usually an `Error`, but it may be anything. */
  readonly value: unknown;
  /** Where a non-Error value was caught; `undefined` for Errors (they carry their own stack). */
  readonly #caughtAt: string | undefined;

  /**
   * Wraps `value`. Wrapping another Failure copies it.
   *
   * @param value - The thrown value (or a Failure to copy).
   */
  constructor(value: unknown) {
    if (value instanceof Failure) {
      this.value = value.value;
      this.#caughtAt = value.#caughtAt;
      return;
    }
    this.value = value;
    this.#caughtAt = isError(value) ? undefined : captureStack(Failure);
  }

  /**
   * The class of the wrapped value: its constructor for objects, the wrapper
   * class (`String`, `Number`, …) for primitives, `undefined` for `null` and
   * `undefined`.
   */
  get type(): ErrorClass | undefined {
    const value = this.value;
    if (value === null || value === undefined) return undefined;
    const ctor: unknown = (Object(value) as { constructor?: unknown }).constructor;
    return typeof ctor === 'function' ? (ctor as ErrorClass) : undefined;
  }

  /**
   * The names of the classes in the value's prototype chain, most derived
   * first (Twisted's `parents`).
   */
  get parents(): string[] {
    const names: string[] = [];
    if (this.value === null || this.value === undefined) return names;
    for (let proto = Object.getPrototypeOf(Object(this.value)) as object | null; proto !== null; ) {
      const ctor: unknown = (proto as { constructor?: unknown }).constructor;
      if (typeof ctor === 'function' && ctor.name !== '') names.push(ctor.name);
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    return names;
  }

  /**
   * Returns the first of `matchers` that the wrapped value matches, or `null`.
   *
   * @param matchers - Classes (tested with `instanceof`) or class names.
   * @returns The matcher that matched, as it was passed, or `null`.
   */
  check<M extends ErrorMatcher[]>(...matchers: M): M[number] | null {
    const boxed: unknown =
      this.value === null || this.value === undefined ? undefined : Object(this.value);
    let names: string[] | undefined;
    for (const matcher of matchers) {
      if (typeof matcher === 'string') {
        names ??= this.parents;
        if (names.includes(matcher)) return matcher;
      } else if (boxed !== undefined && boxed instanceof (matcher as Function)) {
        return matcher;
      }
    }
    return null;
  }

  /**
   * Returns the matching matcher, or re-throws the wrapped value when none
   * matches, so that the next errback sees the same error.
   *
   * @remarks
   * Use it first in an errback to handle only the errors you expect:
   * `failure.trap(CancelledError)`. As in Twisted on Python 3, what is thrown
   * is the original value, not the Failure.
   *
   * @param matchers - Classes or class names.
   * @returns The matcher that matched.
   * @throws The wrapped value, when nothing matches.
   */
  trap<M extends ErrorMatcher[]>(...matchers: M): M[number] {
    const match = this.check(...matchers);
    if (match === null) this.raiseException();
    return match;
  }

  /**
   * Throws the wrapped value.
   *
   * @throws Always: the wrapped value.
   */
  raiseException(): never {
    throw this.value;
  }

  /**
   * Throws the wrapped value into `generator` at its current `yield` and
   * returns what the generator does next.
   *
   * @param generator - A suspended generator.
   * @returns The generator's next step.
   */
  throwExceptionIntoGenerator<Y, R, N>(generator: Generator<Y, R, N>): IteratorResult<Y, R> {
    return generator.throw(this.value);
  }

  /**
   * The message of the wrapped value: an Error's `message`, the message of a
   * wrapped Failure, or the value as text.
   */
  getErrorMessage(): string {
    const value = this.value;
    if (value instanceof Failure) return value.getErrorMessage();
    if (isError(value)) return readText(() => value.message, '<unprintable message>');
    return describeValue(value);
  }

  /**
   * A one-line description: `Type: message`.
   */
  getBriefTraceback(): string {
    return this.getTraceback({ detail: 'brief' });
  }

  /**
   * The traceback as text: the type and message, then the stack showing where
   * the error was raised, then the chain of `cause`s.
   *
   * @param options - `detail`: `'brief'` is one line; `'verbose'` adds the
   *   value's own properties. Default `'default'`.
   */
  getTraceback(options: { detail?: TracebackDetail } = {}): string {
    const detail = options.detail ?? 'default';
    if (detail !== 'brief' && detail !== 'default' && detail !== 'verbose') {
      throw new RangeError(`detail must be 'brief', 'default' or 'verbose', not ${String(detail)}`);
    }
    const header = `${this.#typeName()}: ${this.getErrorMessage()}`;
    if (detail === 'brief') return header;
    const lines = [header, ...stackFrames(this.value, this.#caughtAt)];
    let cause = causeOf(this.value);
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      const nested = new Failure(cause);
      lines.push(`Caused by: ${nested.#typeName()}: ${nested.getErrorMessage()}`);
      lines.push(...stackFrames(cause, undefined));
      cause = causeOf(cause);
    }
    if (detail === 'verbose' && typeof this.value === 'object' && this.value !== null) {
      lines.push(`Value: ${describeValue(this.value, 2)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * Writes {@link Failure.getTraceback} to `output`: standard error unless
   * told otherwise.
   *
   * @param output - Anything with a `write(text)`, such as `process.stdout`
   *   or a file stream. Default `process.stderr`.
   * @param options - `detail`, as for {@link Failure.getTraceback}.
   * @see Twisted: twisted.python.failure.Failure.printTraceback
   */
  printTraceback(
    output: { write(text: string): unknown } = process.stderr,
    options: { detail?: TracebackDetail } = {},
  ): void {
    output.write(this.getTraceback(options));
  }

  /**
   * Writes the one-line traceback (`Type: message`) to `output`.
   *
   * @param output - Default `process.stderr`.
   * @see Twisted: twisted.python.failure.Failure.printBriefTraceback
   */
  printBriefTraceback(output: { write(text: string): unknown } = process.stderr): void {
    output.write(`${this.getBriefTraceback()}\n`);
  }

  /**
   * Writes the verbose traceback (with the value's own properties) to `output`.
   *
   * @param output - Default `process.stderr`.
   * @see Twisted: twisted.python.failure.Failure.printDetailedTraceback
   */
  printDetailedTraceback(output: { write(text: string): unknown } = process.stderr): void {
    output.write(this.getTraceback({ detail: 'verbose' }));
  }

  /** `[Failure instance: Type: message]`, as Twisted's `str(failure)`. */
  toString(): string {
    return `[Failure instance: ${this.getBriefTraceback()}]`;
  }

  /** The `util.inspect` form: `<Failure Type: message>`. @hidden */
  [inspect.custom](): string {
    return `<Failure ${this.getBriefTraceback()}>`;
  }

  #typeName(): string {
    const value = this.value;
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    const className = readText(() => this.type?.name ?? '', '');
    if (isError(value)) {
      const name = readText(() => value.name, className || 'Error');
      // A subclass that does not set `name` shows its base's ("Error"): show
      // the class instead, as util.inspect does.
      return className !== '' && className.includes(name) ? className : name;
    }
    return className || typeof value;
  }
}

/** The stack lines ("    at …") of an Error, or the recorded ones for other values. */
function stackFrames(value: unknown, caughtAt: string | undefined): string[] {
  let stack: unknown;
  try {
    stack = isError(value) ? value.stack : caughtAt;
  } catch {
    return [];
  }
  if (typeof stack !== 'string') return [];
  return stack.split('\n').filter((line) => line.startsWith('    at '));
}

/** The current stack, without the frames of `below` and above it. */
export function captureStack(below?: Function): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, below);
  return holder.stack ?? '';
}

/** Whether `value` is an Error, from this realm or another (a vm context). */
function isError(value: unknown): value is Error {
  return value instanceof Error || isNativeError(value);
}

/** The `cause` of an Error, or undefined; never throws. */
function causeOf(value: unknown): unknown {
  try {
    return isError(value) ? value.cause : undefined;
  } catch {
    return undefined;
  }
}

/** What `read` gives, as text, or `fallback` if reading it throws. */
function readText(read: () => unknown, fallback: string): string {
  try {
    const text = read();
    return typeof text === 'string' ? text : String(text);
  } catch {
    return fallback;
  }
}

/** A value as readable text; never throws. */
function describeValue(value: unknown, depth = 1): string {
  if (typeof value === 'string') return value;
  try {
    return typeof value === 'object' && value !== null
      ? inspect(value, { depth, breakLength: Infinity })
      : String(value);
  } catch {
    return '<unprintable value>';
  }
}
