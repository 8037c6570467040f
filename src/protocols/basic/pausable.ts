// PausableReceiver: the base of the receivers that can be paused as
// producers (Twisted: twisted.protocols.basic._PauseableMixin).
// Tests: test/unit/protocols/basic-line.test.ts, test/unit/protocols/basic-intn.test.ts

import type { IProtocolFactory, ITCPTransport } from '../../internet/interfaces.js';
import { type Factory, Protocol } from '../../internet/protocol.js';
import { EMPTY } from './byte-buffer.js';

/**
 * A receiver that can be paused as a producer: pausing stops both the
 * transport reading and the dispatching of what is already buffered, and
 * resuming dispatches it. The base of {@link LineReceiver} and
 * {@link IntNStringReceiver}.
 *
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic._PauseableMixin
 * @since 0.1.0
 */
export class PausableReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends Protocol<ITCPTransport, F> {
  /** Whether the receiver is paused. */
  paused = false;

  /** Stops dispatching and stops the transport reading. */
  pauseProducing(): void {
    this.paused = true;
    this.transport.pauseProducing();
  }

  /** Resumes reading and dispatches what was buffered meanwhile. */
  resumeProducing(): void {
    this.paused = false;
    this.transport.resumeProducing();
    this.dataReceived(EMPTY);
  }

  /** Stops dispatching for good and stops the transport. */
  stopProducing(): void {
    this.paused = true;
    this.transport.stopProducing();
  }
}
