// Property tests of the Deferred callback-chain algebra: random chains of
// addCallback / addErrback / addBoth / addCallbacks steps are run on real
// Deferreds and compared with a small reference interpreter of Twisted's
// rules, written below as a plain loop.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  AlreadyCalledError,
  Deferred,
  DeferredList,
  Failure,
  FirstError,
  fail,
  gatherResults,
  succeed,
} from 'torsion/defer';

const RUNS = { numRuns: 200 };

/** The only error the steps throw, so that any other failure shows up as a mismatch. */
class StepError extends Error {
  override name = 'StepError';
}

/** What a Deferred ends with, in a form that compares with deepEqual. */
type Outcome = { ok: true; value: string } | { ok: false; error: string };

/**
 * What a step's function does with its input:
 * - value: returns a new value;
 * - throw: throws a StepError;
 * - failure: returns a Failure of a StepError;
 * - same: returns its input unchanged (a value, or the very Failure it got);
 * - succeed / fail: returns a Deferred that has already fired;
 * - laterValue / laterError: returns an unfired Deferred, fired when the test drains its queue.
 */
type ActionKind =
  | 'value'
  | 'throw'
  | 'failure'
  | 'same'
  | 'succeed'
  | 'fail'
  | 'laterValue'
  | 'laterError';

const ALL_KINDS: readonly ActionKind[] = [
  'value',
  'throw',
  'failure',
  'same',
  'succeed',
  'fail',
  'laterValue',
  'laterError',
];
const SYNC_KINDS: readonly ActionKind[] = ALL_KINDS.filter((kind) => !kind.startsWith('later'));

type Step =
  | { add: 'callback'; action: ActionKind }
  | { add: 'errback'; action: ActionKind }
  | { add: 'both'; action: ActionKind }
  | { add: 'callbacks'; action: ActionKind; errAction: ActionKind | null };

/** How the first Deferred of a chain gets its result. */
type Via = 'callback' | 'succeed' | 'errback' | 'callbackFailure' | 'fail';
interface Initial {
  outcome: Outcome;
  via: Via;
}

// ---------------------------------------------------------------------------
// The reference interpreter

function render(outcome: Outcome): string {
  return outcome.ok ? `v(${outcome.value})` : `e(${outcome.error})`;
}

/** The text a step at `index` derives from its input; it records the track taken. */
function derive(input: Outcome, index: number): string {
  return `${render(input)}>${index}${input.ok ? 'c' : 'e'}`;
}

/** Twisted's rule: a callback runs on success, an errback on failure; a missing one passes. */
function selectedAction(step: Step, ok: boolean): ActionKind | null {
  switch (step.add) {
    case 'callback':
      return ok ? step.action : null;
    case 'errback':
      return ok ? null : step.action;
    case 'both':
      return step.action;
    case 'callbacks':
      return ok ? step.action : step.errAction;
  }
}

/**
 * Twisted's rules for what a step's return means: a plain value is a success
 * (an errback returning one recovers); a throw or a returned Failure is a
 * failure; a returned Deferred stands for its own result.
 */
function produce(kind: ActionKind, input: Outcome, index: number): Outcome {
  const text = derive(input, index);
  switch (kind) {
    case 'same':
      return input;
    case 'value':
    case 'succeed':
    case 'laterValue':
      return { ok: true, value: text };
    case 'throw':
    case 'failure':
    case 'fail':
    case 'laterError':
      return { ok: false, error: text };
  }
}

interface Reference {
  outcome: Outcome;
  /** How many step functions run. */
  ran: number;
  /** Whether some step returns an unfired Deferred, so the chain must wait. */
  waits: boolean;
}

function reference(initial: Outcome, steps: readonly Step[], offset = 0): Reference {
  let current = initial;
  let ran = 0;
  let waits = false;
  steps.forEach((step, i) => {
    const kind = selectedAction(step, current.ok);
    if (kind === null) return;
    ran++;
    if (kind === 'laterValue' || kind === 'laterError') waits = true;
    current = produce(kind, current, offset + i);
  });
  return { outcome: current, ran, waits };
}

// ---------------------------------------------------------------------------
// Running chains on real Deferreds

/** Counts the step functions run and holds the unfired Deferreds still to fire. */
class Env {
  ran = 0;
  readonly pending: Array<() => void> = [];

  drainOne(): void {
    this.pending.shift()?.();
  }

  drainAll(): void {
    while (this.pending.length > 0) this.drainOne();
  }
}

function toOutcome(result: unknown): Outcome {
  if (result instanceof Failure) {
    return result.value instanceof StepError
      ? { ok: false, error: result.value.message }
      : { ok: false, error: `<unexpected ${String(result.value)}>` };
  }
  return typeof result === 'string'
    ? { ok: true, value: result }
    : { ok: true, value: `<unexpected ${String(result)}>` };
}

function stepFunction(kind: ActionKind, index: number, env: Env): (result: unknown) => unknown {
  return (result) => {
    env.ran++;
    const text = derive(toOutcome(result), index);
    switch (kind) {
      case 'value':
        return text;
      case 'throw':
        throw new StepError(text);
      case 'failure':
        return new Failure(new StepError(text));
      case 'same':
        return result;
      case 'succeed':
        return succeed(text);
      case 'fail':
        return fail(new StepError(text));
      case 'laterValue': {
        const later = new Deferred<string>();
        env.pending.push(() => later.callback(text));
        return later;
      }
      case 'laterError': {
        const later = new Deferred<string>();
        env.pending.push(() => later.errback(new StepError(text)));
        return later;
      }
    }
  };
}

function addStep(d: Deferred<unknown>, step: Step, index: number, env: Env): void {
  const fn = stepFunction(step.action, index, env);
  switch (step.add) {
    case 'callback':
      d.addCallback(fn);
      return;
    case 'errback':
      d.addErrback(fn);
      return;
    case 'both':
      d.addBoth(fn);
      return;
    case 'callbacks':
      d.addCallbacks(fn, step.errAction === null ? null : stepFunction(step.errAction, index, env));
      return;
  }
}

function addSteps(d: Deferred<unknown>, steps: readonly Step[], offset: number, env: Env): void {
  steps.forEach((step, i) => {
    addStep(d, step, offset + i, env);
  });
}

/**
 * A Deferred for `initial` and the function that fires it. `succeed` and
 * `fail` make it already fired (then `fire` does nothing) unless
 * `allowCreate` is false.
 */
function start(initial: Initial, allowCreate = true): { d: Deferred<unknown>; fire: () => void } {
  const { outcome, via } = initial;
  if (outcome.ok) {
    if (via === 'succeed' && allowCreate) {
      return { d: succeed<unknown>(outcome.value), fire: () => undefined };
    }
    const d = new Deferred<unknown>();
    return { d, fire: () => d.callback(outcome.value) };
  }
  const error = (): StepError => new StepError(outcome.error);
  if (via === 'fail' && allowCreate) return { d: fail<unknown>(error()), fire: () => undefined };
  const d = new Deferred<unknown>();
  return {
    d,
    fire:
      via === 'callbackFailure' ? () => d.callback(new Failure(error())) : () => d.errback(error()),
  };
}

/** Adds a last step that records the outcome and consumes it (so no failure is left unhandled). */
function capture(d: Deferred<unknown>): () => Outcome | undefined {
  let seen: Outcome | undefined;
  d.addBoth((result) => {
    seen = toOutcome(result);
    return undefined;
  });
  return () => seen;
}

// ---------------------------------------------------------------------------
// Arbitraries

function stepArb(kinds: readonly ActionKind[]): fc.Arbitrary<Step> {
  const kind = fc.constantFrom(...kinds);
  return fc.oneof(
    kind.map((action): Step => ({ add: 'callback', action })),
    kind.map((action): Step => ({ add: 'errback', action })),
    kind.map((action): Step => ({ add: 'both', action })),
    fc
      .tuple(kind, fc.option(kind, { nil: null }))
      .map(([action, errAction]): Step => ({ add: 'callbacks', action, errAction })),
  );
}

const stepsArb = fc.array(stepArb(ALL_KINDS), { maxLength: 12 });
const syncStepsArb = fc.array(stepArb(SYNC_KINDS), { maxLength: 5 });

const initialArb: fc.Arbitrary<Initial> = fc.oneof(
  fc
    .tuple(fc.constantFrom('x', 'y'), fc.constantFrom<Via>('callback', 'succeed'))
    .map(([value, via]): Initial => ({ outcome: { ok: true, value }, via })),
  fc
    .tuple(fc.constantFrom('p', 'q'), fc.constantFrom<Via>('errback', 'callbackFailure', 'fail'))
    .map(([error, via]): Initial => ({ outcome: { ok: false, error }, via })),
);

// ---------------------------------------------------------------------------

describe('Deferred chains against the reference interpreter', () => {
  test('any chain on any initial success or failure ends as the reference says', () => {
    fc.assert(
      fc.property(initialArb, stepsArb, (initial, steps) => {
        const env = new Env();
        const expected = reference(initial.outcome, steps);
        const { d, fire } = start(initial);
        addSteps(d, steps, 0, env);
        const result = capture(d);
        fire();
        // Firing is synchronous: the outcome is there at once unless a step waits.
        assert.equal(result() !== undefined, !expected.waits);
        env.drainAll();
        assert.deepEqual(result(), expected.outcome);
        assert.equal(env.ran, expected.ran);
      }),
      RUNS,
    );
  });

  test('firing before, between or after adding the steps gives the same outcome', () => {
    fc.assert(
      fc.property(
        initialArb,
        stepsArb,
        fc.nat(),
        fc.boolean(),
        (initial, steps, firePosition, drainEagerly) => {
          const env = new Env();
          const expected = reference(initial.outcome, steps);
          const fireAt = firePosition % (steps.length + 1);
          const { d, fire } = start(initial, false);
          let fired = false;
          for (let i = 0; i <= steps.length; i++) {
            if (i === fireAt) {
              fire();
              fired = true;
              if (drainEagerly) env.drainAll();
            }
            const step = steps[i];
            if (step === undefined) break;
            addStep(d, step, i, env);
            if (drainEagerly) env.drainAll();
            // A step added to a Deferred that has its result runs at once.
            const expectedRan: number = fired
              ? reference(initial.outcome, steps.slice(0, i + 1)).ran
              : 0;
            if (drainEagerly) assert.equal(env.ran, expectedRan);
          }
          env.drainAll();
          const result = capture(d);
          assert.deepEqual(result(), expected.outcome);
          assert.equal(env.ran, expected.ran);
        },
      ),
      RUNS,
    );
  });

  test('splitting the chain across Deferreds returned by callbacks gives the same outcome', () => {
    type Split = { at: number; mode: 'now' | 'later' | 'beforeChain'; nest: boolean; take: number };
    const splitArb: fc.Arbitrary<Split> = fc.record({
      at: fc.nat({ max: 12 }),
      mode: fc.constantFrom('now', 'later', 'beforeChain'),
      nest: fc.boolean(),
      take: fc.nat({ max: 12 }),
    });

    /**
     * Adds `steps` to `d`, but at each split adds instead one addBoth that
     * returns a new Deferred carrying some of the following steps: either
     * the whole rest (with the remaining splits inside it: nested chaining)
     * or `take` of them, the outer chain carrying on after it. The new
     * Deferred is fired with the result reaching the split: before its steps
     * are added, after, or later from the queue.
     */
    function build(
      d: Deferred<unknown>,
      steps: readonly Step[],
      offset: number,
      splits: readonly Split[],
      env: Env,
    ): void {
      const [split, ...rest] = splits;
      if (split === undefined) {
        addSteps(d, steps, offset, env);
        return;
      }
      const at = Math.min(split.at, steps.length);
      addSteps(d, steps.slice(0, at), offset, env);
      const carried = split.nest ? steps.slice(at) : steps.slice(at, at + split.take);
      d.addBoth((result) => {
        const inner = new Deferred<unknown>();
        const fireInner = (): void => inner.callback(result);
        if (split.mode === 'beforeChain') fireInner();
        if (split.nest) build(inner, carried, offset + at, rest, env);
        else addSteps(inner, carried, offset + at, env);
        if (split.mode === 'now') fireInner();
        else if (split.mode === 'later') env.pending.push(fireInner);
        return inner;
      });
      if (!split.nest) {
        const after = at + carried.length;
        build(d, steps.slice(after), offset + after, rest, env);
      }
    }

    fc.assert(
      fc.property(
        initialArb,
        stepsArb,
        fc.array(splitArb, { maxLength: 4 }),
        (initial, steps, splits) => {
          const env = new Env();
          const expected = reference(initial.outcome, steps);
          const { d, fire } = start(initial);
          build(d, steps, 0, splits, env);
          const result = capture(d);
          fire();
          env.drainAll();
          assert.deepEqual(result(), expected.outcome);
          assert.equal(env.ran, expected.ran);
        },
      ),
      RUNS,
    );
  });

  test('pause() and unpause() anywhere, nested, change only when the outcome is available', () => {
    type Extra = 'pause' | 'unpause' | 'drainOne';
    fc.assert(
      fc.property(
        initialArb,
        stepsArb,
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom<Extra>('pause', 'unpause', 'drainOne')), {
          maxLength: 16,
        }),
        fc.array(fc.boolean(), { maxLength: 8 }),
        (initial, steps, firePosition, extras, finale) => {
          const env = new Env();
          const expected = reference(initial.outcome, steps);
          const slots = steps.length + 1;
          const fireAt = firePosition % slots;
          const { d, fire } = start(initial, false);
          let result: () => Outcome | undefined = () => undefined;
          let userPauses = 0;
          let frozen: { ran: number; seen: Outcome | undefined } | null = null;

          /** While the user holds a pause, nothing of d's chain runs. */
          const checkFrozen = (): void => {
            if (frozen !== null) assert.deepEqual({ ran: env.ran, seen: result() }, frozen);
          };
          const pause = (): void => {
            if (userPauses === 0) frozen = { ran: env.ran, seen: result() };
            userPauses++;
            d.pause();
          };
          const unpause = (): void => {
            if (userPauses === 0) return;
            userPauses--;
            if (userPauses === 0) frozen = null;
            d.unpause();
          };
          const doExtra = (extra: Extra): void => {
            if (extra === 'pause') pause();
            else if (extra === 'unpause') unpause();
            else env.drainOne();
            checkFrozen();
          };

          for (let i = 0; i < slots; i++) {
            for (const [where, extra] of extras) if (where % slots === i) doExtra(extra);
            if (i === fireAt) fire();
            checkFrozen();
            const step = steps[i];
            if (step !== undefined) addStep(d, step, i, env);
            checkFrozen();
          }
          result = capture(d);
          checkFrozen();
          for (const unpauseNext of finale) doExtra(unpauseNext ? 'unpause' : 'drainOne');
          while (userPauses > 0) doExtra('unpause');
          env.drainAll();
          assert.equal(d.paused, 0);
          assert.deepEqual(result(), expected.outcome);
          assert.equal(env.ran, expected.ran);
        },
      ),
      RUNS,
    );
  });

  test('a second callback or errback always throws AlreadyCalledError and changes nothing', () => {
    type When = 'afterFire' | 'afterDrain' | 'whilePaused' | 'insideCallback';
    type How = 'callback' | 'errback' | 'callbackFailure';
    fc.assert(
      fc.property(
        initialArb,
        stepsArb,
        fc.constantFrom<When>('afterFire', 'afterDrain', 'whilePaused', 'insideCallback'),
        fc.constantFrom<How>('callback', 'errback', 'callbackFailure'),
        fc.nat(),
        (initial, steps, when, how, position) => {
          const env = new Env();
          const expected = reference(initial.outcome, steps);
          const { d, fire } = start(initial);
          const thrown: unknown[] = [];
          const fireAgain = (): void => {
            try {
              if (how === 'callback') d.callback('again');
              else if (how === 'errback') d.errback(new StepError('again'));
              else d.callback(new Failure(new StepError('again')));
            } catch (error) {
              thrown.push(error);
            }
          };
          const insideAt = position % (steps.length + 1);
          steps.forEach((step, i) => {
            if (when === 'insideCallback' && i === insideAt) {
              d.addBoth((result) => {
                fireAgain();
                return result;
              });
            }
            addStep(d, step, i, env);
          });
          if (when === 'insideCallback' && insideAt === steps.length) {
            d.addBoth((result) => {
              fireAgain();
              return result;
            });
          }
          const result = capture(d);
          fire();
          if (when === 'afterFire') fireAgain();
          if (when === 'whilePaused') {
            d.pause();
            fireAgain();
            d.unpause();
          }
          env.drainAll();
          if (when === 'afterDrain') fireAgain();
          assert.equal(thrown.length, 1);
          assert.ok(thrown[0] instanceof AlreadyCalledError);
          assert.equal(thrown[0].code, 'ERR_ALREADY_CALLED_DEFERRED');
          assert.deepEqual(result(), expected.outcome);
          assert.equal(env.ran, expected.ran);
        },
      ),
      RUNS,
    );
  });
});

describe('DeferredList and gatherResults against the reference interpreter', () => {
  /** One input: a Deferred with a few synchronous steps, fired before the list or later. */
  interface InputSpec {
    initial: Initial;
    steps: Step[];
    preFired: boolean;
    /** Later inputs fire in (priority, index) order. */
    priority: number;
  }
  const inputArb: fc.Arbitrary<InputSpec> = fc.record({
    initial: initialArb,
    steps: syncStepsArb,
    preFired: fc.boolean(),
    priority: fc.nat({ max: 20 }),
  });

  interface Inputs {
    deferreds: Deferred<unknown>[];
    expected: Outcome[];
    /** The input indices in the order they fire: pre-fired ones first, by index. */
    order: number[];
    /** How many fire after the list is made. */
    laterCount: number;
    /** Fires the next later input. */
    fireNext: () => void;
  }

  function makeInputs(specs: readonly InputSpec[], env: Env): Inputs {
    const later: Array<{ index: number; priority: number; fire: () => void }> = [];
    const deferreds = specs.map((spec, index) => {
      const { d, fire } = start(spec.initial, spec.preFired);
      addSteps(d, spec.steps, 0, env);
      if (spec.preFired) fire();
      else later.push({ index, priority: spec.priority, fire });
      return d;
    });
    later.sort((a, b) => a.priority - b.priority || a.index - b.index);
    const preFired = specs.flatMap((spec, index) => (spec.preFired ? [index] : []));
    let next = 0;
    return {
      deferreds,
      expected: specs.map((spec) => reference(spec.initial.outcome, spec.steps).outcome),
      order: [...preFired, ...later.map((entry) => entry.index)],
      laterCount: later.length,
      fireNext: () => later[next++]?.fire(),
    };
  }

  /** After the list has fired: what each input's own later callbacks see. */
  function checkInputsAfterwards(inputs: Inputs, consumeErrors: boolean): void {
    inputs.deferreds.forEach((d, index) => {
      const expected = inputs.expected[index] as Outcome;
      let seen: unknown = 'nothing yet';
      d.addBoth((result) => {
        seen = result;
        return undefined;
      });
      if (!expected.ok && consumeErrors) assert.equal(seen, undefined);
      else assert.deepEqual(toOutcome(seen), expected);
    });
  }

  test('DeferredList fires once the last input fires, with entries in input order', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 8 }), fc.boolean(), (specs, consumeErrors) => {
        const env = new Env();
        const inputs = makeInputs(specs, env);
        const list = new DeferredList(inputs.deferreds, { consumeErrors });
        let entries: Array<[boolean, Outcome]> | undefined;
        list.addCallback((result) => {
          entries = result.map(([ok, value]) => [ok, toOutcome(value)]);
        });
        for (let fired = 0; fired < inputs.laterCount; fired++) {
          assert.equal(entries, undefined);
          inputs.fireNext();
        }
        assert.deepEqual(
          entries,
          inputs.expected.map((outcome) => [outcome.ok, outcome]),
        );
        checkInputsAfterwards(inputs, consumeErrors);
      }),
      RUNS,
    );
  });

  test('gatherResults gives the values in input order, or FirstError for the first input to fail', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 8 }), fc.boolean(), (specs, consumeErrors) => {
        const env = new Env();
        const inputs = makeInputs(specs, env);
        // Pre-fired inputs are seen by the list in input order, at once; the
        // others as they fire. The first failure in that order decides.
        const failedAt = inputs.order.findIndex((index) => !inputs.expected[index]?.ok);
        const preFiredCount = inputs.order.length - inputs.laterCount;
        const firesAfter =
          failedAt === -1 ? inputs.laterCount : Math.max(0, failedAt - preFiredCount + 1);

        const gathered = gatherResults(inputs.deferreds, { consumeErrors });
        let outcome: { values: unknown[] } | { index: number; error: Outcome } | undefined;
        gathered.addCallbacks(
          (values) => {
            outcome = { values };
          },
          (failure) => {
            assert.ok(failure.value instanceof FirstError);
            outcome = {
              index: failure.value.index,
              error: toOutcome(failure.value.subFailure),
            };
          },
        );
        for (let fired = 0; fired < inputs.laterCount; fired++) {
          assert.equal(outcome !== undefined, fired >= firesAfter);
          inputs.fireNext();
        }
        if (failedAt === -1) {
          assert.deepEqual(outcome, {
            values: inputs.expected.map((o) => (o.ok ? o.value : null)),
          });
        } else {
          const index = inputs.order[failedAt] as number;
          assert.deepEqual(outcome, { index, error: inputs.expected[index] });
        }
        checkInputsAfterwards(inputs, consumeErrors);
      }),
      RUNS,
    );
  });
});
