// Internal: the delayed calls of a clock or reactor, kept in a binary heap
// ordered by (due time, scheduling order). Shared by Clock and NodeReactor.
// Twisted: twisted.internet.base.DelayedCall and the reactor's call heap.
// Tests: test/unit/internet/timed-calls.test.ts, task-clock.test.ts (Clock),
// test/unit/internet/bound-methods.test.ts

import { bindOnRead } from './_bind.js';
import { AlreadyCalled, AlreadyCancelled } from './error.js';
import type { IDelayedCall } from './interfaces.js';

// Friend functions with access to DelayedCall's private state; assigned in
// DelayedCall's static block so that the heap code can live in TimedCallQueue.
let create: (
  queue: TimedCallQueue,
  time: number,
  f: CallableFunction,
  args: unknown[],
) => DelayedCall;
let timeOf: (call: DelayedCall) => number;
let precedes: (a: DelayedCall, b: DelayedCall) => boolean;
let indexOf: (call: DelayedCall) => number;
let sequenceOf: (call: DelayedCall) => number;
let setIndex: (call: DelayedCall, index: number) => void;
let markCalled: (call: DelayedCall) => void;

/**
 * A call scheduled on a {@link Clock} or a reactor.
 *
 * @remarks
 * Ordering: calls due at the same time run in the order they were scheduled;
 * `reset` and `delay` count as scheduling the call anew.
 *
 * @see Twisted: twisted.internet.base.DelayedCall
 * @since 0.1.0
 */
export class DelayedCall implements IDelayedCall {
  #time: number;
  #seq: number;
  /** Position in the queue's heap; -1 once the call has left it (run or cancelled). */
  #index = -1;
  readonly #queue: TimedCallQueue;
  readonly #func: CallableFunction;
  readonly #args: unknown[];
  #called = false;
  #cancelled = false;

  static {
    create = (queue, time, f, args) => new DelayedCall(queue, time, f, args);
    timeOf = (call) => call.#time;
    precedes = (a, b) => a.#time < b.#time || (a.#time === b.#time && a.#seq < b.#seq);
    indexOf = (call) => call.#index;
    sequenceOf = (call) => call.#seq;
    setIndex = (call, index) => {
      call.#index = index;
    };
    markCalled = (call) => {
      call.#called = true;
    };
  }

  private constructor(queue: TimedCallQueue, time: number, f: CallableFunction, args: unknown[]) {
    this.#queue = queue;
    this.#time = time;
    this.#seq = queue.nextSequence();
    this.#func = f;
    this.#args = args;
  }

  /** The function this call runs. */
  get func(): CallableFunction {
    return this.#func;
  }

  /** The arguments it is called with. */
  get args(): readonly unknown[] {
    return this.#args;
  }

  /** Whether the call has run (or is running). */
  get called(): boolean {
    return this.#called;
  }

  /** Whether the call was cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  getTime(): number {
    return this.#time;
  }

  active(): boolean {
    return !(this.#called || this.#cancelled);
  }

  cancel(): void {
    this.#assertActive();
    this.#cancelled = true;
    this.#queue.remove(this);
  }

  reset(secondsFromNow: number): void {
    this.#assertActive();
    checkDelay(secondsFromNow);
    this.#time = this.#queue.seconds() + secondsFromNow;
    this.#seq = this.#queue.nextSequence();
    this.#queue.update(this);
  }

  delay(secondsLater: number): void {
    this.#assertActive();
    if (typeof secondsLater !== 'number' || Number.isNaN(secondsLater)) {
      throw new RangeError(`delay must be a number of seconds, got ${String(secondsLater)}`);
    }
    this.#time += secondsLater;
    this.#seq = this.#queue.nextSequence();
    this.#queue.update(this);
  }

  /**
   * Runs the function. Called by the clock or reactor that owns the call,
   * after taking it from the queue.
   *
   * @internal
   */
  run(): void {
    Reflect.apply(this.#func, undefined, this.#args);
  }

  /** `<DelayedCall f at 12.5s>` with its state. */
  toString(): string {
    const state = this.#called ? ' called' : this.#cancelled ? ' cancelled' : '';
    return `<DelayedCall ${this.#func.name || 'anonymous'} at ${this.#time}s${state}>`;
  }

  #assertActive(): void {
    if (this.#cancelled) throw new AlreadyCancelled();
    if (this.#called) throw new AlreadyCalled();
  }
}

// `call.cancel` can be passed on (`d.addCallback(call.cancel)`) at no cost to `call.cancel()`.
bindOnRead(DelayedCall.prototype, ['cancel']);

/**
 * Validates a delay in seconds: a number, not NaN, not negative.
 *
 * @internal
 */
export function checkDelay(delay: number): void {
  if (typeof delay !== 'number') {
    throw new TypeError(`delay must be a number of seconds, got ${typeof delay}`);
  }
  if (!(delay >= 0)) throw new RangeError(`delay must be at least 0 seconds, got ${delay}`);
}

/**
 * The pending calls of one clock or reactor: a binary min-heap, so that
 * scheduling, cancelling and rescheduling cost O(log n) and the earliest call
 * is found in O(1).
 *
 * @internal
 */
export class TimedCallQueue {
  readonly #heap: DelayedCall[] = [];
  #sequence = 0;
  readonly #now: () => number;
  readonly #onEarliestChange: (() => void) | undefined;

  /**
   * @param now - The owner's current time in seconds.
   * @param onEarliestChange - Called when the earliest due call may have changed.
   */
  constructor(now: () => number, onEarliestChange?: () => void) {
    this.#now = now;
    this.#onEarliestChange = onEarliestChange;
  }

  seconds(): number {
    return this.#now();
  }

  nextSequence(): number {
    return this.#sequence++;
  }

  /** The number of pending calls. */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `f(...args)` to run `delay` seconds from now. */
  schedule<A extends unknown[]>(delay: number, f: (...args: A) => unknown, args: A): DelayedCall {
    checkDelay(delay);
    if (typeof f !== 'function') throw new TypeError(`callLater needs a function, got ${typeof f}`);
    const call = create(this, this.#now() + delay, f, args);
    const heap = this.#heap;
    heap.push(call);
    this.#siftUp(heap.length - 1);
    if (indexOf(call) === 0) this.#onEarliestChange?.();
    return call;
  }

  /** The due time of the earliest pending call, or `undefined` if none. */
  earliestTime(): number | undefined {
    const first = this.#heap[0];
    return first === undefined ? undefined : timeOf(first);
  }

  /**
   * Removes and returns the earliest call if it is due at or before `now`
   * (and was scheduled before sequence number `before`, if given), marked as
   * called; the caller runs it.
   */
  takeDue(now: number, before = Number.POSITIVE_INFINITY): DelayedCall | undefined {
    const first = this.#heap[0];
    if (first === undefined || timeOf(first) > now || sequenceOf(first) >= before) return undefined;
    this.#removeAt(0);
    markCalled(first);
    return first;
  }

  /** The pending calls, earliest first. */
  pending(): DelayedCall[] {
    return [...this.#heap].sort((a, b) => (precedes(a, b) ? -1 : 1));
  }

  remove(call: DelayedCall): void {
    const index = indexOf(call);
    if (index < 0) return;
    this.#removeAt(index);
    if (index === 0) this.#onEarliestChange?.();
  }

  update(call: DelayedCall): void {
    const index = indexOf(call);
    if (index < 0) return;
    if (!this.#siftUp(index)) this.#siftDown(index);
    if (index === 0 || indexOf(call) === 0) this.#onEarliestChange?.();
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const removed = heap[index] as DelayedCall;
    const last = heap.pop() as DelayedCall;
    setIndex(removed, -1);
    if (index === heap.length) return;
    heap[index] = last;
    setIndex(last, index);
    if (!this.#siftUp(index)) this.#siftDown(index);
  }

  /** Moves the call at `index` towards the root; returns whether it moved. */
  #siftUp(index: number): boolean {
    const heap = this.#heap;
    const call = heap[index] as DelayedCall;
    const start = index;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as DelayedCall;
      if (!precedes(call, parent)) break;
      heap[index] = parent;
      setIndex(parent, index);
      index = parentIndex;
    }
    heap[index] = call;
    setIndex(call, index);
    return index !== start;
  }

  /** Moves the call at `index` away from the root; returns its new index. */
  #siftDown(index: number): number {
    const heap = this.#heap;
    const length = heap.length;
    const call = heap[index] as DelayedCall;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && precedes(heap[right] as DelayedCall, heap[left] as DelayedCall)) {
        child = right;
      }
      const childCall = heap[child] as DelayedCall;
      if (!precedes(childCall, call)) break;
      heap[index] = childCall;
      setIndex(childCall, index);
      index = child;
    }
    heap[index] = call;
    setIndex(call, index);
    return index;
  }
}
