// The STARTTLS example (examples/starttls-server.ts, starttls-client.ts)
// without sockets, over the in-memory pump's simulated TLS: the client asks,
// the server answers GO AHEAD in the clear, both upgrade, the lines written
// during the handshake are echoed after it, the client hangs up; the server
// refuses lines before STARTTLS; a client that upgrades without asking is
// cut off. The real run is test/integration/examples-starttls.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { ConnectionDone, ConnectionLost } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import {
  connectedServerAndClient,
  type FakeTransport,
  failureResultOf,
  successResultOf,
} from 'torsion/testing';
import { StartTLSClient } from '../../examples/starttls-client.js';
import { readKeyAndCertificate, StartTLSServer } from '../../examples/starttls-server.js';
import { CERT, CERT_FILE, KEY, KEY_FILE } from '../helpers/tls.js';

const SERVER = { key: KEY, cert: CERT };
const CLIENT = { ca: CERT, host: '127.0.0.1' };

function fake(protocol: { transport: unknown }): FakeTransport {
  return protocol.transport as FakeTransport;
}

describe('the STARTTLS example', () => {
  test('upgrades, echoes the lines encrypted, and hangs up', () => {
    const printed: string[] = [];
    const [client, server, pump] = connectedServerAndClient(
      () => new StartTLSServer(SERVER),
      () => new StartTLSClient(CLIENT, ['hello', 'world'], (line) => printed.push(line)),
    );
    pump.flush();
    assert.deepEqual(printed, [
      'TLS on: the server proved it is localhost',
      'ECHO hello',
      'ECHO world',
    ]);
    assert.ok(fake(client).tlsStarted);
    assert.ok(fake(server).tlsStarted);
    assert.equal(fake(server).tlsServer, true);
    assert.equal(server.secure, true);
    successResultOf(client.done);
  });

  test('the server refuses lines before STARTTLS, in the clear', () => {
    const heard: string[] = [];
    class Plain extends LineReceiver {
      override lineReceived(line: Buffer): void {
        heard.push(line.toString());
      }
    }
    const [client, server, pump] = connectedServerAndClient(
      () => new StartTLSServer(SERVER),
      Plain,
    );
    client.sendLine('hello');
    pump.flush();
    assert.deepEqual(heard, ['ERR say STARTTLS first']);
    assert.equal(fake(server).tlsStarted, false);
  });

  test('a client that starts TLS without waiting for GO AHEAD is cut off, as over TLS', () => {
    let reason: Failure | undefined;
    class Hasty extends LineReceiver {
      override connectionMade(): void {
        this.sendLine('STARTTLS');
        fake(this).startTLS(CLIENT);
      }
      override lineReceived(): void {}
      override connectionLost(failure: Failure): void {
        reason = failure;
      }
    }
    const [, server] = connectedServerAndClient(() => new StartTLSServer(SERVER), Hasty);
    assert.ok(server.secure);
    assert.ok(reason?.check(ConnectionLost));
    assert.match(String(reason?.getErrorMessage()), /TLS handshake failed: .*plain byte/);
  });

  test('a client whose server hangs up before GO AHEAD fails its done', () => {
    class Silent extends LineReceiver {
      override lineReceived(): void {
        this.transport.loseConnection();
      }
    }
    const [client] = connectedServerAndClient(
      Silent,
      () => new StartTLSClient(CLIENT, ['x'], () => undefined),
    );
    assert.ok(failureResultOf(client.done, ConnectionDone));
  });

  test('reads the key and certificate files, or says which it cannot read', () => {
    assert.deepEqual(readKeyAndCertificate(KEY_FILE, CERT_FILE), SERVER);
    assert.throws(() => readKeyAndCertificate(KEY_FILE), /give the key file and the certificate/);
    assert.throws(
      () => readKeyAndCertificate('/nonexistent/key', CERT_FILE),
      /cannot read the key file '\/nonexistent\/key'/,
    );
  });
});
