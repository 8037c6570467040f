// Twisted's MAX_LENGTH on the receivers: refused loudly when the connection
// is made, never ignored while the default limit applies.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
} from 'torsion/protocols/basic';
import { StringTransport } from 'torsion/testing';

const receivers = [
  ['LineReceiver', () => new LineReceiver()],
  ['LineOnlyReceiver', () => new LineOnlyReceiver()],
  ['NetstringReceiver', () => new NetstringReceiver()],
  ['Int32StringReceiver', () => new Int32StringReceiver()],
] as const;

describe("Twisted's MAX_LENGTH", () => {
  for (const [name, make] of receivers) {
    test(`${name} set from JavaScript is refused with a TypeError naming maxLength`, () => {
      const receiver = make();
      // As a JavaScript subclass would: `MAX_LENGTH = 8` (TypeScript rejects it).
      Object.defineProperty(receiver, 'MAX_LENGTH', { value: 8, enumerable: true });
      assert.throws(
        () => receiver.makeConnection(new StringTransport()),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message ===
            `${name} sets MAX_LENGTH, Twisted's name, which Torsion does not read: set maxLength instead`,
      );
    });

    test(`${name} with maxLength connects as usual`, () => {
      const receiver = make();
      receiver.maxLength = 8;
      const transport = new StringTransport();
      receiver.makeConnection(transport);
      assert.equal(receiver.transport, transport);
      assert.equal(receiver.connected, true);
    });
  }
});
