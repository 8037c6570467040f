// The STARTTLS example run as its documented commands on loopback: the
// server (examples/starttls-server.ts) with the repository's test key and
// certificate, the client (examples/starttls-client.ts) trusting that
// certificate; the client prints the verified server and the echoes and
// exits 0; a client trusting another CA fails naming the reason and exits
// 1; the server without its files prints the usage. Children are stopped
// by their PIDs when each test ends.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portsOf, runExample } from '../helpers/example-process.js';
import { waitFor } from '../helpers/sockets.js';
import { CERT_FILE, KEY_FILE, TLS_DIR } from '../helpers/tls.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const SERVER = `${examples}starttls-server.js`;
const CLIENT = `${examples}starttls-client.js`;

describe('the STARTTLS example as commands', { timeout: 30_000 }, () => {
  test('the client upgrades, verifies the server, prints the echoes and exits 0', async (t) => {
    const server = runExample(t, SERVER, [KEY_FILE, CERT_FILE, '0']);
    const [port] = await portsOf(server, ['starttls server']);
    const client = runExample(t, CLIENT, [CERT_FILE, '127.0.0.1', String(port), 'hello', 'world']);
    const [code] = (await waitFor(client.closed, 'the client to exit')) as [number | null];
    assert.equal(client.stderr(), '');
    assert.equal(
      client.stdout(),
      'TLS on: the server proved it is localhost\nECHO hello\nECHO world\n',
    );
    assert.equal(code, 0);
  });

  test('a client that does not trust the certificate fails, naming why, and exits 1', async (t) => {
    const server = runExample(t, SERVER, [KEY_FILE, CERT_FILE, '0']);
    const [port] = await portsOf(server, ['starttls server']);
    // The DH parameters file holds no certificate: nothing is trusted but Node's roots.
    const client = runExample(t, CLIENT, [`${TLS_DIR}dh2048.pem`, '127.0.0.1', String(port)]);
    const [code] = (await waitFor(client.closed, 'the client to exit')) as [number | null];
    assert.match(client.stderr(), /^error: .*TLS handshake failed: .*self[- ]signed/i);
    assert.equal(code, 1);
  });

  test('the server without its files prints the usage and exits 2', async (t) => {
    const server = runExample(t, SERVER, []);
    const [code] = (await waitFor(server.closed, 'the server to exit')) as [number | null];
    assert.match(server.stderr(), /^error: give the key file and the certificate file\nusage: /);
    assert.equal(code, 2);
  });
});
