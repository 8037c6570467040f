// The ssl: server strings' dhParameters and sslmethod in real handshakes on
// loopback: with dhParameters a client that offers only a DHE cipher suite
// connects, without them it cannot; sslmethod=TLSv1_2_METHOD negotiates
// TLS 1.2 with a client that prefers 1.3.

import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { quoteStringArgument as q, serverFromString } from 'torsion/endpoints';
import type { IPv4Address } from 'torsion/protocol';
import { CollectingFactory, EchoRecorder, harness, waitFor } from '../helpers/sockets.js';
import { CERT, COMBINED_FILE, TLS_DIR } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const DH_FILE = `${TLS_DIR}dh2048.pem`;
const DHE_ONLY = {
  ciphers: 'DHE-RSA-AES128-GCM-SHA256',
  maxVersion: 'TLSv1.2',
} as const satisfies ConnectionOptions;

/** Listens on a loopback port with the ssl: description `options` (after the key); the port. */
async function listen(t: TestContext, options: string): Promise<number> {
  const h = harness(t);
  const endpoint = serverFromString(
    h.reactor,
    `ssl:0:privateKey=${q(COMBINED_FILE)}:interface=127.0.0.1${options}`,
  );
  const port = await waitFor(
    endpoint.listen(new CollectingFactory(() => new EchoRecorder())),
    'listening',
  );
  h.adopt(port);
  return (port.getHost() as IPv4Address).port;
}

/** What a handshake agreed. */
interface Agreed {
  readonly cipher: string;
  readonly protocol: string | null;
}

/** Connects node:tls's client; resolves with what it agreed once secure, or with the error. */
function handshake(port: number, options: ConnectionOptions): Promise<Agreed | Error> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ port, host: LOCAL, ca: CERT, servername: 'localhost', ...options });
    socket.once('secureConnect', () => {
      resolve({ cipher: socket.getCipher().name, protocol: socket.getProtocol() });
      socket.destroy();
    });
    socket.once('error', (error) => {
      resolve(error);
      socket.destroy();
    });
  });
}

describe('ssl: server strings on loopback', { timeout: 30_000 }, () => {
  test('dhParameters enables the DHE cipher suites', async (t) => {
    const port = await listen(t, `:dhParameters=${q(DH_FILE)}`);
    const socket = await waitFor(handshake(port, DHE_ONLY), 'the handshake');
    assert.ok(!(socket instanceof Error), String(socket));
    assert.equal(socket.cipher, 'DHE-RSA-AES128-GCM-SHA256');
  });

  test('without dhParameters a DHE-only client finds no common cipher suite', async (t) => {
    const port = await listen(t, '');
    const error = await waitFor(handshake(port, DHE_ONLY), 'the handshake');
    assert.ok(error instanceof Error);
    assert.match(error.message, /handshake failure/);
  });

  test('sslmethod=TLSv1_2_METHOD: TLS 1.2 is negotiated; a TLS 1.3-only client is refused', async (t) => {
    const port = await listen(t, ':sslmethod=TLSv1_2_METHOD');
    const socket = await waitFor(handshake(port, {}), 'the handshake');
    assert.ok(!(socket instanceof Error), String(socket));
    assert.equal(socket.protocol, 'TLSv1.2');
    const refused = await waitFor(handshake(port, { minVersion: 'TLSv1.3' }), 'the handshake');
    assert.ok(refused instanceof Error);
  });
});
