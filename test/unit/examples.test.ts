// Every example runs, and says what it should.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main as demo } from '../../examples/demo.js';

test('the demo tour prints each step with the right results', () => {
  const lines: string[] = [];
  demo((line) => lines.push(line));
  assert.deepEqual(
    lines.filter((line) => line.startsWith('   ')),
    [
      '   5 * 7 + 1 = 36',
      '   recovered from "parse failed"',
      '   waited 1 s for 42',
      '   2*3 + 4*5 = 26 after 2 s',
      '   [[true,1],[true,4]]',
      '   gave up: the Deferred timed out after 5 seconds',
    ],
  );
});
