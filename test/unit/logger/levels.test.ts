// Log levels: their names, order and recognition
// (Twisted: twisted/logger/test/test_levels.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareLogLevels, isLogLevel, LogLevel } from 'torsion/logger';

const ORDER: LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];

describe('LogLevel', () => {
  test('names each level by itself, so LogLevel.error reads as in Twisted', () => {
    assert.deepEqual(LogLevel, {
      debug: 'debug',
      info: 'info',
      warn: 'warn',
      error: 'error',
      critical: 'critical',
    });
  });
});

describe('compareLogLevels', () => {
  test('orders debug < info < warn < error < critical', () => {
    for (const [i, a] of ORDER.entries()) {
      for (const [j, b] of ORDER.entries()) {
        assert.equal(Math.sign(compareLogLevels(a, b)), Math.sign(i - j), `${a} vs ${b}`);
      }
    }
  });

  test('is zero for a level against itself and antisymmetric otherwise', () => {
    for (const a of ORDER) {
      assert.equal(compareLogLevels(a, a), 0);
      for (const b of ORDER) {
        assert.equal(Math.sign(compareLogLevels(a, b)) + Math.sign(compareLogLevels(b, a)), 0);
      }
    }
  });

  test('sorts levels by severity', () => {
    const shuffled: LogLevel[] = ['error', 'debug', 'critical', 'info', 'warn'];
    assert.deepEqual(shuffled.sort(compareLogLevels), ORDER);
  });
});

describe('isLogLevel', () => {
  test('accepts each level name', () => {
    for (const level of ORDER) assert.equal(isLogLevel(level), true, level);
  });

  test('rejects other spellings, prototype keys and non-strings', () => {
    const others: unknown[] = [
      'warning',
      'Debug',
      'CRITICAL',
      '',
      'toString',
      'constructor',
      '__proto__',
      'hasOwnProperty',
      0,
      null,
      undefined,
      {},
      LogLevel,
    ];
    for (const other of others) assert.equal(isLogLevel(other), false, String(other));
  });
});
