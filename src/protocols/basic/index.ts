// torsion/protocols/basic: framing protocols: bytes → lines, length-prefixed
// strings, netstrings; stateful string dispatch; a file producer
// (Twisted: twisted.protocols.basic).
// Tests: test/unit/protocols/basic-*.test.ts, test/fuzz/basic.test.ts

/**
 * Framing: protocols that turn a stream of bytes into messages and back.
 * `LineReceiver` and `LineOnlyReceiver` for lines (with a raw mode for
 * bodies), `NetstringReceiver` for netstrings, `Int8StringReceiver`,
 * `Int16StringReceiver` and `Int32StringReceiver` for length-prefixed
 * strings, `StatefulStringProtocol` to dispatch each string by state, and
 * `FileSender` to send a file as a pull producer.
 *
 * Subclass one of them instead of `Protocol` whenever a connection carries
 * messages rather than a plain byte stream. Twisted:
 * `twisted.protocols.basic`.
 *
 * @example
 * ```ts
 * import { LineReceiver } from 'torsion/protocols/basic';
 *
 * class Shout extends LineReceiver {
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line.toString('utf8').toUpperCase());
 *   }
 * }
 * ```
 *
 * @module torsion/protocols/basic
 * @primaryExport
 */

export {
  FileSender,
  FileTransferStoppedError,
  type OpenedFile,
  openFileForSending,
  type ReadableFile,
} from './file-sender.js';
export {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  IntNStringReceiver,
  StringTooLongError,
} from './int-n.js';
export { LineOnlyReceiver, LineReceiver } from './lines.js';
export { NetstringParseError, NetstringReceiver } from './netstring.js';
export { PausableReceiver } from './pausable.js';
export {
  dispatchStringToState,
  type StatefulStringHandler,
  StatefulStringProtocol,
} from './stateful.js';
