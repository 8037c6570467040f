// Twisted's capitalised class attributes do not compile on the receivers:
// a `MAX_LENGTH = 8` copied from Twisted code is a compile error, not a limit
// silently ignored.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineReceiver, NetstringReceiver } from 'torsion/protocols/basic';

class Limited extends LineReceiver {
  override maxLength = 8;
}

class FromTwisted extends LineReceiver {
  // @ts-expect-error MAX_LENGTH is Twisted's name: set maxLength
  MAX_LENGTH = 8;
}

class NetstringFromTwisted extends NetstringReceiver {
  // @ts-expect-error MAX_LENGTH is Twisted's name: set maxLength
  override MAX_LENGTH = 8;
}

test('maxLength compiles; MAX_LENGTH does not (the @ts-expect-error lines above)', () => {
  assert.equal(new Limited().maxLength, 8);
  assert.equal(new FromTwisted().maxLength, 16384);
  assert.equal(new NetstringFromTwisted().maxLength, 99999);
});
