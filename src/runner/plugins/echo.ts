// The `echo` plugin of the `torsion` command: an echo server (RFC 862) on
// one or more endpoints (Twisted: twisted.protocols.wire.Echo).
// Tests: test/unit/runner/plugins.test.ts

import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import { Factory, Protocol } from '../../internet/protocol.js';
import { checkEndpoints, listenOnEach } from '../_listen.js';
import type { PluginOptions } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

/**
 * Writes back every byte it receives.
 *
 * @see Twisted: twisted.protocols.wire.Echo
 * @since 0.1.0
 */
export class EchoProtocol extends Protocol {
  /** Writes `data` back. */
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/**
 * `torsion echo [--listen ENDPOINT]…`: echoes what each connection sends.
 *
 * @since 0.1.0
 */
export const echoPlugin: TorsionPlugin = {
  name: 'echo',
  description: 'An echo server (RFC 862): writes back what it receives',
  options: [
    {
      name: 'listen',
      type: 'string',
      multiple: true,
      default: ['tcp:8000:interface=127.0.0.1'],
      metavar: 'ENDPOINT',
      help: 'where to listen (an endpoint string; may be repeated)',
    },
  ],
  check(options: PluginOptions): void {
    checkEndpoints(options.strings('listen'), '--listen');
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const top = new MultiService();
    const factory = Factory.forProtocol(EchoProtocol);
    listenOnEach(top, reactor, options.strings('listen'), factory, 'echo');
    return top;
  },
};

export default echoPlugin;
