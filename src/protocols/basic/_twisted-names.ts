// Internal: refusing Twisted's capitalised class attributes (MAX_LENGTH) on
// the receivers, whose setting is spelled maxLength here. The types already
// make `MAX_LENGTH = 8` a compile error; this catches JavaScript (or a cast)
// when the connection is made, rather than ignoring the limit silently.
// Tests: test/unit/protocols/basic-twisted-names.test.ts, test/types/twisted-names.test.ts

/** Twisted's attribute names and what they are called here. */
const RENAMED: ReadonlyArray<readonly [string, string]> = [['MAX_LENGTH', 'maxLength']];

/**
 * Throws if `receiver` has one of Twisted's capitalised attributes set.
 *
 * @param receiver - A receiver about to be connected.
 * @throws TypeError naming the attribute and the name to use instead.
 */
export function refuseTwistedNames(receiver: object): void {
  for (const [twisted, ours] of RENAMED) {
    if (Object.hasOwn(receiver, twisted)) {
      throw new TypeError(
        `${receiver.constructor.name} sets ${twisted}, Twisted's name, which Torsion does not read: set ${ours} instead`,
      );
    }
  }
}
