// Finger stage 9 run as its documented command on loopback (port 0): it
// runs the stand-in finger program for each query, and the tutorial's finger
// client reads the answers over real sockets; stopped with SIGTERM.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finger } from '../../examples/finger/finger-client.js';
import { portsOf, runExample, stopExample } from '../helpers/example-process.js';
import { harness, waitFor } from '../helpers/sockets.js';

const examples = fileURLToPath(new URL('../../examples/finger/', import.meta.url));

describe('finger stage 9 as a command', { timeout: 60_000 }, () => {
  test('answers with the stand-in finger output, an internal error for an unknown user, and exits 0 on SIGTERM', async (t) => {
    const server = runExample(t, `${examples}finger09.js`, ['tcp:0:interface=127.0.0.1']);
    const [port] = await portsOf(server, ['finger server']);
    const { reactor } = harness(t);
    const found = await waitFor(finger(reactor, 'moshez', '127.0.0.1', port), 'the reply');
    assert.equal(
      found.toString(),
      'Login: moshez\t\t\tName: Moshe Zadka\nPlan:\nHappy and well\r\n',
    );
    const missing = await waitFor(finger(reactor, 'nobody', '127.0.0.1', port), 'the reply');
    assert.equal(missing.toString(), 'Internal error in server\r\n');
    assert.equal(await stopExample(server.process), 0);
  });
});
