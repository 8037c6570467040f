// The `torsion --inject-faults SPEC` option: the check that the plugin
// listens on loopback only, and the reactor a plugin's service is made with,
// whose listen calls wrap each factory in a FaultInjectingFactory.
// Tests: test/unit/runner/faults.test.ts, test/integration/runner/cli.test.ts

import type { AppReactor } from '../app/run-app.js';
import type { IProtocolFactory, ListenTCPOptions } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import {
  FaultInjectingFactory,
  type FaultPlan,
  formatFaultSpec,
} from '../protocols/policies/faults.js';
import { isLoopbackHost, listensOnLoopback } from './_listen.js';
import { type PluginOptions, UsageError } from './options.js';
import type { TorsionPlugin } from './plugin.js';

const log = new Logger('torsion.runner');

/** What the refusals say after the reason. */
const ADVICE =
  'fault injection is for tests on this machine: listen on 127.0.0.1, ::1, localhost or a UNIX socket';

/**
 * Checks that every endpoint the plugin's options name (the options whose
 * value is an `ENDPOINT`) listens on loopback.
 *
 * @throws UsageError naming the option and the endpoint that does not.
 */
export function checkFaultsOnLoopback(plugin: TorsionPlugin, options: PluginOptions): void {
  for (const spec of plugin.options ?? []) {
    if (spec.metavar !== 'ENDPOINT' || !options.has(spec.name)) continue;
    for (const description of options.strings(spec.name)) {
      let loopback: boolean;
      try {
        loopback = listensOnLoopback(description);
      } catch {
        loopback = false;
      }
      if (!loopback) {
        throw new UsageError(
          `--inject-faults is refused: --${spec.name} ${description} is not on loopback; ${ADVICE}`,
        );
      }
    }
  }
}

/**
 * A view of `reactor` whose `listenTCP`, `listenSSL` and `listenUNIX` wrap
 * the factory in a {@link FaultInjectingFactory} with `plan`, and refuse
 * (throw) to listen on an interface that is not loopback; everything else
 * is the reactor's own.
 */
export function faultInjectingReactor(reactor: AppReactor, plan: FaultPlan): AppReactor {
  const spec = formatFaultSpec(plan);
  const wrap = (factory: IProtocolFactory, where: string): FaultInjectingFactory => {
    log.warn('Injecting faults ({spec}) into every connection to {where}', { spec, where });
    return new FaultInjectingFactory(factory, plan, reactor);
  };
  const refuseUnlessLoopback = (port: number, options: ListenTCPOptions | undefined): string => {
    const host = options?.interface ?? '';
    if (!isLoopbackHost(host)) {
      const shown = host === '' ? 'every interface' : host;
      throw new UsageError(
        `--inject-faults is refused: port ${port} would listen on ${shown}, not loopback; ${ADVICE}`,
      );
    }
    return `${host}:${port}`;
  };
  const overrides: Partial<AppReactor> = {
    listenTCP: (port, factory, options) =>
      reactor.listenTCP(port, wrap(factory, refuseUnlessLoopback(port, options)), options),
    listenSSL: (port, factory, contextFactory, options) =>
      reactor.listenSSL(
        port,
        wrap(factory, refuseUnlessLoopback(port, options)),
        contextFactory,
        options,
      ),
    listenUNIX: (address, factory, options) =>
      reactor.listenUNIX(address, wrap(factory, address), options),
  };
  return new Proxy(reactor, {
    get(target, property) {
      const own = (overrides as Record<PropertyKey, unknown>)[property];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, property, target);
      // Bound, so that methods using private fields see the reactor itself.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
