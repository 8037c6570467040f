// torsion/protocols/basic: framing protocols: bytes → lines, length-prefixed
// strings, netstrings; stateful string dispatch; a file producer
// (Twisted: twisted.protocols.basic).
// Tests: test/unit/protocols/basic-*.test.ts, test/fuzz/basic.test.ts

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
