// Internal: the simulation's single event queue (a binary heap ordered by
// virtual time, then by scheduling order) and the delayed calls hosts hand out.
// Tests: test/unit/testing/simulation-core.test.ts

import { AlreadyCalled, AlreadyCancelled } from '../../internet/error.js';
import type { IDelayedCall } from '../../internet/interfaces.js';

/**
 * Something that happens at a virtual time: a segment arriving, a timer.
 *
 * @internal
 */
export abstract class SimEvent {
  /** @internal The virtual time it is due at. */
  time = 0;
  /** @internal Its place among events due at the same time. */
  seq = 0;
  /** @internal Its position in the queue's heap; -1 when not queued. */
  heapIndex = -1;
  /** Runs the event; the queue has already removed it. */
  abstract fire(): void;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * The pending events, earliest first; simultaneous events keep the order
 * in which they were scheduled.
 *
 * @internal
 */
export class EventQueue {
  readonly heap: SimEvent[] = [];
  #seq = 0;

  get size(): number {
    return this.heap.length;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  push(event: SimEvent, time: number): void {
    event.time = time;
    event.seq = this.#seq++;
    const heap = this.heap;
    heap.push(event);
    this.#up(heap.length - 1);
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const first = heap[0];
    if (first === undefined) return undefined;
    const last = heap.pop() as SimEvent;
    first.heapIndex = -1;
    if (last !== first) {
      heap[0] = last;
      last.heapIndex = 0;
      this.#down(0);
    }
    return first;
  }

  remove(event: SimEvent): void {
    if (event.heapIndex >= 0) this.#removeAt(event.heapIndex);
  }

  /** Moves a pending event to a new time (counts as scheduling it anew). */
  update(event: SimEvent, time: number): void {
    event.time = time;
    event.seq = this.#seq++;
    const index = event.heapIndex;
    if (index < 0) return;
    if (!this.#up(index)) this.#down(index);
  }

  #removeAt(index: number): void {
    const heap = this.heap;
    const removed = heap[index] as SimEvent;
    const last = heap.pop() as SimEvent;
    removed.heapIndex = -1;
    if (index === heap.length) return;
    heap[index] = last;
    last.heapIndex = index;
    if (!this.#up(index)) this.#down(index);
  }

  #up(index: number): boolean {
    const heap = this.heap;
    const event = heap[index] as SimEvent;
    const start = index;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as SimEvent;
      if (!before(event, parent)) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = event;
    event.heapIndex = index;
    return index !== start;
  }

  #down(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const event = heap[index] as SimEvent;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right] as SimEvent, heap[left] as SimEvent)) child = right;
      const childEvent = heap[child] as SimEvent;
      if (!before(childEvent, event)) break;
      heap[index] = childEvent;
      childEvent.heapIndex = index;
      index = child;
    }
    heap[index] = event;
    event.heapIndex = index;
  }
}

/**
 * What a {@link SimulatedDelayedCall} needs of its owner.
 *
 * @internal
 */
export interface CallOwner {
  readonly queue: EventQueue;
  seconds(): number;
  /** The call ran or was cancelled. */
  forget(call: SimulatedDelayedCall): void;
  /** Runs `f` and logs what it throws. */
  runCall(call: SimulatedDelayedCall): void;
}

/**
 * A call scheduled with a simulated host's `callLater`: an event on the
 * network's queue.
 *
 * @since 0.1.0
 */
export class SimulatedDelayedCall extends SimEvent implements IDelayedCall {
  readonly #owner: CallOwner;
  /** The function this call runs. */
  readonly func: CallableFunction;
  /** The arguments it is called with. */
  readonly args: readonly unknown[];
  #called = false;
  #cancelled = false;

  /** @internal */
  constructor(owner: CallOwner, func: CallableFunction, args: readonly unknown[]) {
    super();
    this.#owner = owner;
    this.func = func;
    this.args = args;
  }

  /** Whether the call has run (or is running). */
  get called(): boolean {
    return this.#called;
  }

  /** Whether the call was cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The virtual time it is due at. */
  getTime(): number {
    return this.time;
  }

  /** Whether it is still pending. */
  active(): boolean {
    return !(this.#called || this.#cancelled);
  }

  /** Unschedules it. @throws AlreadyCalled or AlreadyCancelled. */
  cancel(): void {
    this.#check();
    this.#cancelled = true;
    this.#owner.queue.remove(this);
    this.#owner.forget(this);
  }

  /** Reschedules it `secondsFromNow` after the current virtual time. */
  reset(secondsFromNow: number): void {
    this.#check();
    checkSeconds(secondsFromNow);
    this.#owner.queue.update(this, this.#owner.seconds() + secondsFromNow);
  }

  /** Pushes it `secondsLater` further. */
  delay(secondsLater: number): void {
    this.#check();
    if (typeof secondsLater !== 'number' || Number.isNaN(secondsLater)) {
      throw new RangeError(`delay must be a number of seconds, got ${String(secondsLater)}`);
    }
    this.#owner.queue.update(this, this.time + secondsLater);
  }

  /** @internal */
  override fire(): void {
    this.#called = true;
    this.#owner.forget(this);
    this.#owner.runCall(this);
  }

  /** `<SimulatedDelayedCall f at 12.5s>`. */
  override toString(): string {
    const state = this.#called ? ' called' : this.#cancelled ? ' cancelled' : '';
    return `<SimulatedDelayedCall ${this.func.name || 'anonymous'} at ${this.time}s${state}>`;
  }

  /** Cancels without the checks: the host crashed. @internal */
  drop(): void {
    if (!this.active()) return;
    this.#cancelled = true;
    this.#owner.queue.remove(this);
  }

  #check(): void {
    if (this.#cancelled) throw new AlreadyCancelled();
    if (this.#called) throw new AlreadyCalled();
  }
}

/**
 * Validates a delay in seconds.
 *
 * @internal
 */
export function checkSeconds(delay: number): void {
  if (typeof delay !== 'number') {
    throw new TypeError(`delay must be a number of seconds, got ${typeof delay}`);
  }
  if (!(delay >= 0)) throw new RangeError(`delay must be at least 0 seconds, got ${delay}`);
}

/**
 * A function run at a virtual time by the simulation itself (segments'
 * side effects, fault schedules); not one of a host's delayed calls.
 *
 * @internal
 */
export class Task extends SimEvent {
  #cancelled = false;
  constructor(readonly run: () => void) {
    super();
  }
  /** It will not run. */
  cancel(): void {
    this.#cancelled = true;
  }
  override fire(): void {
    if (!this.#cancelled) this.run();
  }
}
