// ipFamily, the IP literal check the test doubles use instead of node:net:
// it must agree with node:net's isIP on every input.

import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ipFamily } from '../../../src/internet/_ip.js';

const SAMPLES = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4 ',
  '::',
  '::1',
  '1::',
  '::ffff:127.0.0.1',
  '::ffff:127.0.0.256',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::',
  '1:2:3:4:5:6::7:8',
  '1:2:3:4:5:6:1.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4',
  '1::2::3',
  ':::',
  '1:::2',
  ':1::',
  '12345::',
  'fe80::1%eth0',
  'fe80::1%',
  'fe80::1%a%b',
  'FE80::ABCD',
  'g::1',
  '1.2.3.4::',
  'localhost',
  'example.com',
  '',
  '[::1]',
];

describe('ipFamily', () => {
  test('agrees with node:net isIP on addresses, near misses and host names', () => {
    for (const text of SAMPLES) {
      assert.equal(ipFamily(text), isIP(text), JSON.stringify(text));
    }
  });

  test('agrees with node:net isIP on random strings of address characters', () => {
    const char = fc.constantFrom(...'0123456789abcdefABCDEF:.%gz-'.split(''));
    fc.assert(
      fc.property(fc.array(char, { maxLength: 45 }), (chars) => {
        const text = chars.join('');
        assert.equal(ipFamily(text), isIP(text), JSON.stringify(text));
      }),
      { numRuns: 20_000 },
    );
  });

  test('agrees with node:net isIP on generated valid addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        assert.equal(ipFamily(text), isIP(text), text);
        assert.notEqual(ipFamily(text), 0, text);
      }),
      { numRuns: 5_000 },
    );
  });
});
