// The `time` plugin of the `torsion` command: the time protocol of RFC 868
// (Twisted: twisted.protocols.wire.Time).
// Tests: test/unit/runner/plugins.test.ts

import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import type { IReactorTime } from '../../internet/interfaces.js';
import { Factory, Protocol } from '../../internet/protocol.js';
import { checkEndpoints, listenOnEach } from '../_listen.js';
import type { PluginOptions } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

/** Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (the UNIX epoch). */
export const RFC868_EPOCH_OFFSET = 2_208_988_800;

/**
 * Sends the time as RFC 868 has it (four bytes, big-endian: whole seconds
 * since 1900-01-01 UTC, modulo 2^32), then hangs up.
 *
 * @remarks
 * Differences from Twisted: `twisted.protocols.wire.Time` sends seconds
 * since 1970 (the UNIX epoch); this sends seconds since 1900, as the RFC
 * says and as time clients (`rdate`) expect.
 *
 * @see Twisted: twisted.protocols.wire.Time
 * @since 0.1.0
 */
export class TimeProtocol extends Protocol {
  declare factory: TimeFactory;

  /** Writes the time and closes the connection. */
  override connectionMade(): void {
    const seconds = Math.floor(this.factory.clock.seconds()) + RFC868_EPOCH_OFFSET;
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(((seconds % 2 ** 32) + 2 ** 32) % 2 ** 32);
    this.transport.write(bytes);
    this.transport.loseConnection();
  }
}

/**
 * Makes a {@link TimeProtocol} per connection, telling the time of `clock`.
 *
 * @since 0.1.0
 */
export class TimeFactory extends Factory<TimeProtocol> {
  override protocol = TimeProtocol;
  /** Where the time comes from: the reactor (seconds since the UNIX epoch). */
  readonly clock: IReactorTime;

  /** @param clock - Where the time comes from. */
  constructor(clock: IReactorTime) {
    super();
    this.clock = clock;
  }
}

/**
 * `torsion time [--listen ENDPOINT]…`: the RFC 868 time server, on port
 * 1100 by default as in the texts (the protocol's own port, 37, needs
 * privileges).
 *
 * @since 0.1.0
 */
export const timePlugin: TorsionPlugin = {
  name: 'time',
  description: 'A time server (RFC 868): sends the time as 4 bytes and hangs up',
  options: [
    {
      name: 'listen',
      type: 'string',
      multiple: true,
      default: ['tcp:1100:interface=127.0.0.1'],
      metavar: 'ENDPOINT',
      help: 'where to listen (an endpoint string; may be repeated)',
    },
  ],
  check(options: PluginOptions): void {
    checkEndpoints(options.strings('listen'), '--listen');
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const top = new MultiService();
    const factory = new TimeFactory(reactor);
    listenOnEach(top, reactor, options.strings('listen'), factory, 'time');
    return top;
  },
};

export default timePlugin;
