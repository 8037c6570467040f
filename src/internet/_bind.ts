// Bound methods: the methods Twisted code passes around as references
// (`reactor.stop`, `d.callback`, `transport.write`, `this.sendLine`) work when
// called without their object, as Python's bound methods do.
// Tests: test/unit/internet/bound-methods.test.ts, test/types/bound-methods.test.ts

/**
 * Gives `obj` its own bound copy of each method in `names`, looked up on `obj`
 * (so a subclass's override is the one bound). For long-lived objects
 * (reactors, transports, protocols): one bound function per method and
 * instance. The copies are non-enumerable, so `util.inspect` still shows the
 * object's state only, and writable, so a test can still replace one.
 *
 * @internal
 */
export function bindMethods<T extends object>(obj: T, names: readonly (keyof T & string)[]): void {
  for (const name of names) {
    const method: unknown = obj[name];
    if (typeof method !== 'function') continue;
    Object.defineProperty(obj, name, {
      value: method.bind(obj),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}

/**
 * The transport methods bound on every transport: what `callLater`,
 * `addCallback` and producers are handed (`d.addCallback(transport.write)`).
 *
 * @internal
 */
export const TRANSPORT_METHODS = [
  'write',
  'writeSequence',
  'loseConnection',
  'loseWriteConnection',
  'abortConnection',
  'pauseProducing',
  'resumeProducing',
  'stopProducing',
] as const;

/**
 * {@link bindMethods} for every method `obj` has, its class's and its
 * superclasses' (not `Object`'s): for reactors, whose every method is a
 * candidate for `callLater(4, reactor.stop)`.
 *
 * @internal
 */
export function bindAllMethods(obj: object): void {
  const names = new Set<string>();
  for (
    let proto: object | null = Object.getPrototypeOf(obj);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (name !== 'constructor' && typeof descriptor.value === 'function') names.add(name);
    }
  }
  bindMethods(obj as Record<string, unknown>, [...names]);
}

/**
 * Replaces each method in `names` on `proto` with a getter that returns the
 * method bound to the object it is read from, fresh on every read (as a
 * Python bound method is): `d.callback === d.callback` is false.
 *
 * @remarks
 * For objects made by the million (Deferreds, timed calls), where a bound
 * copy per instance would cost an allocation each: when the read is called at
 * once (`d.callback(v)`), V8's optimizing compiler calls the method directly
 * and allocates nothing, so the hot path stays as fast as a plain method (see
 * bench/RESULTS.md). A subclass that overrides one of these methods with a
 * plain method shadows the getter: its override is not bound. Assigning the
 * property gives the object its own value, as for a plain method.
 *
 * @returns The original methods, by name, for callers inside the module that
 *   need the function itself (a stack-trace boundary).
 * @internal
 */
export function bindOnRead<T extends object, K extends keyof T & string>(
  proto: T,
  names: readonly K[],
): Pick<T, K> {
  const originals = {} as Pick<T, K>;
  for (const name of names) {
    const method = proto[name];
    if (typeof method !== 'function') throw new TypeError(`${name} is not a method`);
    originals[name] = method;
    Object.defineProperty(proto, name, {
      get(this: object) {
        return method.bind(this);
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, configurable: true });
      },
      configurable: true,
      enumerable: false,
    });
  }
  return originals;
}
