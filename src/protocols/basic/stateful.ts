// Stateful string protocols: strings dispatched to a method chosen by the
// protocol's state (Twisted: twisted.protocols.basic.StatefulStringProtocol).
// Tests: test/unit/protocols/basic-stateful.test.ts

import type { IProtocolFactory, ITransport } from '../../internet/interfaces.js';
import type { Factory } from '../../internet/protocol.js';
import { Logger } from '../../logger/logger.js';
import { NetstringReceiver } from './netstring.js';

const log = new Logger('torsion.protocols.basic');

/**
 * What {@link dispatchStringToState} needs of a protocol: its state, and a
 * transport to close.
 *
 * @since 0.1.0
 */
export interface StatefulStringHandler {
  /** The current state: the next string goes to `proto_<state>`. */
  state: string;
  /** The transport, closed when a handler is missing or throws, or the state becomes `'done'`. */
  readonly transport: Pick<ITransport, 'loseConnection'>;
  /** The name used in log messages. */
  logPrefix?(): string;
}

/**
 * Hands `string` to the method `proto_<state>` of `protocol`, found by
 * name; a string it returns becomes the new state.
 *
 * @remarks
 * This is the body of {@link StatefulStringProtocol.stringReceived}, for
 * protocols with another framing: call it from their `stringReceived` (AMP
 * does this with 2-byte prefixes):
 *
 * ```ts
 * class Boxes extends Int16StringReceiver implements StatefulStringHandler {
 *   state = 'init';
 *   override stringReceived(string: Buffer): void {
 *     dispatchStringToState(this, string);
 *   }
 *   proto_init(key: Buffer): string { … return 'value'; }
 * }
 * ```
 *
 * A handler that returns anything but a string leaves the state unchanged.
 * When the state becomes `'done'`, the connection is closed. When no
 * `proto_<state>` method exists, or the handler throws, the error is logged
 * (namespace `torsion.protocols.basic`) and the connection is closed; the
 * state is left as it was.
 *
 * @param protocol - The protocol whose handlers are called.
 * @param string - The string received.
 * @see Twisted: twisted.protocols.basic.StatefulStringProtocol.stringReceived
 * @since 0.1.0
 */
export function dispatchStringToState(protocol: StatefulStringHandler, string: Buffer): void {
  const state = protocol.state;
  const name = `proto_${state}`;
  const handler = (protocol as unknown as Record<string, unknown>)[name];
  const prefix = protocol.logPrefix?.() ?? protocol.constructor.name;
  if (typeof handler !== 'function') {
    log.error('{protocol}: no handler {handler} for state {state}; dropping the connection', {
      protocol: prefix,
      handler: name,
      state,
    });
    protocol.transport.loseConnection();
    return;
  }
  let next: unknown;
  try {
    next = (handler as (this: StatefulStringHandler, string: Buffer) => unknown).call(
      protocol,
      string,
    );
  } catch (error) {
    log.failure('{protocol}: {handler} failed in state {state}; dropping the connection', error, {
      protocol: prefix,
      handler: name,
      state,
    });
    protocol.transport.loseConnection();
    return;
  }
  if (typeof next === 'string') protocol.state = next;
  if (protocol.state === 'done') protocol.transport.loseConnection();
}

/**
 * A netstring protocol whose strings go to a method chosen by its state:
 * `proto_init`, then whichever state each handler returns.
 *
 * @remarks
 * Define `proto_<state>(string: Buffer)` methods; the first string goes to
 * `proto_init`. A handler that returns a string moves the protocol to that
 * state; returning nothing keeps the state. The state `'done'` closes the
 * connection. A missing handler or a throw is logged and drops the
 * connection (see {@link dispatchStringToState}).
 *
 * Design: Twisted's `StatefulStringProtocol` is a mixin, combined by
 * multiple inheritance with a string receiver. TypeScript has single
 * inheritance, and class-factory mixins lose names and docs, so this class
 * extends {@link NetstringReceiver} (the pairing Twisted documents), and the
 * dispatch itself is the exported function {@link dispatchStringToState}:
 * a protocol with another framing (say {@link Int16StringReceiver}, as AMP)
 * calls it from its own `stringReceived`, by composition.
 *
 * Differences from Twisted: a handler returning nothing keeps the state
 * (Twisted sets it to `None`); a missing handler drops the connection
 * (Twisted only logs it).
 *
 * @example
 * ```ts
 * class Login extends StatefulStringProtocol {
 *   proto_init(user: Buffer): string {
 *     this.user = user.toString('utf8');
 *     return 'password';
 *   }
 *   proto_password(password: Buffer): string {
 *     this.sendString(check(this.user, password) ? 'welcome' : 'denied');
 *     return 'done';
 *   }
 * }
 * ```
 *
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.StatefulStringProtocol
 * @since 0.1.0
 */
export class StatefulStringProtocol<F extends IProtocolFactory | undefined = Factory | undefined>
  extends NetstringReceiver<F>
  implements StatefulStringHandler
{
  /** The current state: the next string goes to `proto_<state>`. Initially `'init'`. */
  state = 'init';

  /**
   * Hands the string to `proto_<state>`.
   *
   * @param string - The string received.
   */
  override stringReceived(string: Buffer): void {
    dispatchStringToState(this, string);
  }
}
