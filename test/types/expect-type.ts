// Compile-time type assertions for the type tests in test/types/: a call
// that compiles only when a value's type is exactly the expected one.
// Not a test file; the *.test.ts files here use it.

/**
 * `true` when `A` and `B` are the same type, `false` otherwise. Compares
 * exactly: `any`, `unknown`, a wider union or a subtype all differ.
 */
export type Equal<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

/**
 * Checks that a value's type is exactly `Expected`, and returns the value:
 * `expectType<Deferred<number>>()(d)` compiles only if `d` is a
 * `Deferred<number>`; otherwise the call wants a second argument of type
 * `never`, which no call can give.
 */
export function expectType<Expected>() {
  return <Actual>(
    value: Actual,
    ..._exact: Equal<Actual, Expected> extends true ? [] : [never]
  ): Actual => value;
}
