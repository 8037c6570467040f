// Endpoints on real loopback sockets with a NodeReactor: TCP over IPv4 and
// IPv6, UNIX sockets in a temporary directory, TLS with the test-only
// certificate, HostnameEndpoint to localhost, description strings end to
// end, failures and cancellation. (Twisted: internet/test/test_endpoints.py,
// the parts that need a real reactor.)

import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import {
  clientFromString,
  connectProtocol,
  HostnameEndpoint,
  type IStreamClientEndpoint,
  type IStreamServerEndpoint,
  quoteStringArgument,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  serverFromString,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from 'torsion/endpoints';
import {
  CannotListenError,
  ConnectingCancelledError,
  ConnectionRefusedError,
  DNSLookupError,
  IPv4Address,
  IPv6Address,
  SSLError,
} from 'torsion/protocol';
import type { IListeningPort, IProtocol, ISSLTransport } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  ipv6LoopbackWorks,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';
import { CAS_DIR, CERT, CERT_FILE, KEY, KEY_FILE } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
const q = quoteStringArgument;

const HAVE_IPV6 = await ipv6LoopbackWorks();

/** A fresh directory under the system's temporary directory, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-endpoints-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Listens through `endpoint` with an echo server; the harness closes the port. */
async function listen(
  h: SocketHarness,
  endpoint: IStreamServerEndpoint,
): Promise<{ port: IListeningPort; server: CollectingFactory<EchoRecorder> }> {
  const server = new CollectingFactory(() => new EchoRecorder());
  const port = await waitFor(endpoint.listen(server), `${endpoint} to listen`);
  h.adopt(port);
  return { port, server };
}

/** Connects through `endpoint`, checks the echo, and closes. */
async function assertEchoes(endpoint: IStreamClientEndpoint, what = 'echo'): Promise<Recorder> {
  const client = (await waitFor(
    connectProtocol(endpoint, new Recorder()),
    `${endpoint} to connect`,
  )) as Recorder;
  // The Deferred fires once connectionMade has run.
  await waitFor(client.made, 'connectionMade');
  client.transport.write(Buffer.from(what));
  await waitFor(client.bytes(what.length), 'the echo');
  assert.equal(client.data().toString(), what);
  client.transport.loseConnection();
  await waitFor(client.lost, 'connectionLost');
  return client;
}

function portOf(port: IListeningPort): number {
  return (port.getHost() as IPv4Address).port;
}

describe('TCP endpoints', SUITE, () => {
  test('a TCP4ClientEndpoint connects to a TCP4ServerEndpoint and the two echo', async (t) => {
    const h = harness(t);
    const { port, server } = await listen(
      h,
      new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }),
    );
    assert.ok(port.getHost() instanceof IPv4Address);
    await assertEchoes(new TCP4ClientEndpoint(h.reactor, LOCAL, portOf(port)));
    assert.equal(server.protocols.length, 1);
  });

  test('a TCP6ClientEndpoint connects to a TCP6ServerEndpoint over ::1', {
    skip: !HAVE_IPV6 && 'no IPv6 loopback',
  }, async (t) => {
    const h = harness(t);
    const { port } = await listen(h, new TCP6ServerEndpoint(h.reactor, 0, { interface: '::1' }));
    assert.ok(port.getHost() instanceof IPv6Address);
    const client = await assertEchoes(new TCP6ClientEndpoint(h.reactor, '::1', portOf(port)));
    assert.ok(client.transport.getPeer() instanceof IPv6Address);
  });

  test('listening on a port in use fails the Deferred with CannotListenError', async (t) => {
    const h = harness(t);
    const { port } = await listen(h, new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }));
    const d = new TCP4ServerEndpoint(h.reactor, portOf(port), { interface: LOCAL }).listen(
      new CollectingFactory(() => new Recorder()),
    );
    await assert.rejects(waitFor(d, 'the failed listen'), CannotListenError);
  });

  test('connecting where nothing listens fails with ConnectionRefusedError', async (t) => {
    const h = harness(t);
    const { port } = await listen(h, new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }));
    const number = portOf(port);
    await port.stopListening();
    const d = new TCP4ClientEndpoint(h.reactor, LOCAL, number).connect(
      new RecordingClientFactory(() => new Recorder()),
    );
    await assert.rejects(waitFor(d, 'the refused connection'), ConnectionRefusedError);
  });

  test('a cancelled connection attempt fails with ConnectingCancelledError and connects nothing', async (t) => {
    const h = harness(t);
    const { port, server } = await listen(
      h,
      new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }),
    );
    const client = new RecordingClientFactory(() => new Recorder());
    const d = new TCP4ClientEndpoint(h.reactor, LOCAL, portOf(port)).connect(client);
    d.cancel();
    const error = await waitFor(
      d.asPromise().then(
        () => assert.fail('the connection was made'),
        (e: unknown) => e,
      ),
      'the cancellation',
    );
    assert.ok(error instanceof ConnectingCancelledError);
    assert.ok(new IPv4Address('TCP', LOCAL, portOf(port)).equals(error.address));
    await h.roundTrip();
    assert.deepEqual(client.protocols, []);
    assert.deepEqual(server.protocols, []);
    assert.equal(client.stops, client.starts);
  });
});

describe('UNIX endpoints', SUITE, () => {
  test('a UNIXClientEndpoint connects to a UNIXServerEndpoint in a temporary directory', async (t) => {
    const dir = tempDir(t);
    const h = harness(t);
    const path = join(dir, 'echo.sock');
    await listen(h, new UNIXServerEndpoint(h.reactor, path, { mode: 0o600 }));
    await assertEchoes(new UNIXClientEndpoint(h.reactor, path));
  });

  test('unix: descriptions hold a lock file, which the client can check', async (t) => {
    const dir = tempDir(t);
    const h = harness(t);
    const path = join(dir, 'a:b.sock');
    const { port } = await listen(h, serverFromString(h.reactor, `unix:${q(path)}`));
    const locked = (): boolean =>
      lstatSync(`${path}.lock`, { throwIfNoEntry: false }) !== undefined;
    assert.ok(locked());
    await assertEchoes(clientFromString(h.reactor, `unix:${q(path)}:lockfile=1:timeout=5`));
    await port.stopListening();
    assert.equal(locked(), false);
  });
});

describe('TLS endpoints', SUITE, () => {
  test('an SSL4ClientEndpoint trusting the certificate connects to an SSL4ServerEndpoint', async (t) => {
    const h = harness(t);
    const { port, server } = await listen(
      h,
      new SSL4ServerEndpoint(h.reactor, 0, { key: KEY, cert: CERT }, { interface: LOCAL }),
    );
    const client = await assertEchoes(
      new SSL4ClientEndpoint(h.reactor, 'localhost', portOf(port), { ca: CERT }),
    );
    assert.equal(
      (client.transport as unknown as ISSLTransport).getPeerCertificate()?.subject.CN,
      'localhost',
    );
    assert.equal(server.protocols.length, 1);
  });

  test('an SSL4ClientEndpoint that does not trust the certificate fails with SSLError', async (t) => {
    const h = harness(t);
    const { port } = await listen(
      h,
      new SSL4ServerEndpoint(h.reactor, 0, { key: KEY, cert: CERT }, { interface: LOCAL }),
    );
    const d = new SSL4ClientEndpoint(h.reactor, 'localhost', portOf(port), {}).connect(
      new RecordingClientFactory(() => new Recorder()),
    );
    await assert.rejects(waitFor(d, 'the failed handshake'), SSLError);
  });

  test('ssl: descriptions on both sides, verifying the host name against a CA directory', async (t) => {
    const h = harness(t);
    const { port } = await listen(
      h,
      serverFromString(
        h.reactor,
        `ssl:0:privateKey=${q(KEY_FILE)}:certKey=${q(CERT_FILE)}:interface=${LOCAL}`,
      ),
    );
    await assertEchoes(
      clientFromString(
        h.reactor,
        `ssl:${LOCAL}:${portOf(port)}:caCertsDir=${q(CAS_DIR)}:hostname=localhost`,
      ),
    );
  });

  test('a tls: description connects by host name, verifying against its trust roots', async (t) => {
    const h = harness(t);
    const { port } = await listen(
      h,
      new SSL4ServerEndpoint(h.reactor, 0, { key: KEY, cert: CERT }, { interface: LOCAL }),
    );
    await assertEchoes(
      clientFromString(h.reactor, `tls:localhost:${portOf(port)}:trustRoots=${q(CAS_DIR)}`),
    );
  });

  test('a tls: description without trust roots rejects the self-signed certificate', async (t) => {
    const h = harness(t);
    const { port } = await listen(
      h,
      new SSL4ServerEndpoint(h.reactor, 0, { key: KEY, cert: CERT }, { interface: LOCAL }),
    );
    const d = clientFromString(h.reactor, `tls:localhost:${portOf(port)}`).connect(
      new RecordingClientFactory(() => new Recorder()),
    );
    await assert.rejects(waitFor(d, 'the failed handshake'), SSLError);
  });
});

describe('HostnameEndpoint', SUITE, () => {
  test('connects to localhost, whatever families it resolves to', async (t) => {
    const h = harness(t);
    const { port } = await listen(h, new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }));
    const client = await assertEchoes(new HostnameEndpoint(h.reactor, 'localhost', portOf(port)));
    assert.equal((client.transport.getPeer() as IPv4Address).host, LOCAL);
  });

  test('fails with the refusal when nothing listens on any address', async (t) => {
    const h = harness(t);
    const { port } = await listen(h, new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }));
    const number = portOf(port);
    await port.stopListening();
    const d = new HostnameEndpoint(h.reactor, 'localhost', number).connect(
      new RecordingClientFactory(() => new Recorder()),
    );
    await assert.rejects(waitFor(d, 'the refused connections'), ConnectionRefusedError);
    assert.deepEqual(h.reactor.getDelayedCalls(), []);
  });

  test('a cancelled attempt fails with ConnectingCancelledError and leaves nothing behind', async (t) => {
    const h = harness(t);
    const { port, server } = await listen(
      h,
      new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }),
    );
    const d = new HostnameEndpoint(h.reactor, 'localhost', portOf(port)).connect(
      new RecordingClientFactory(() => new Recorder()),
    );
    d.cancel();
    await assert.rejects(waitFor(d, 'the cancellation'), ConnectingCancelledError);
    await h.roundTrip();
    assert.deepEqual(server.protocols, []);
    assert.deepEqual(h.reactor.getDelayedCalls(), []);
  });

  test('hostname: and tcp: descriptions work end to end', async (t) => {
    const h = harness(t);
    const { port } = await listen(h, serverFromString(h.reactor, `tcp:0:interface=${LOCAL}`));
    await assertEchoes(clientFromString(h.reactor, `hostname:localhost:${portOf(port)}`));
    await assertEchoes(clientFromString(h.reactor, `tcp:${LOCAL}:${portOf(port)}:timeout=5`));
  });
});

describe('NodeReactor.resolveHostName', SUITE, () => {
  test('gives every address of localhost, IPv4 loopback among them', async (t) => {
    const h = harness(t);
    const addresses = await waitFor(h.reactor.resolveHostName('localhost'), 'the lookup');
    assert.ok(addresses.some((a) => a instanceof IPv4Address && a.host === LOCAL));
    for (const address of addresses) {
      assert.ok(address instanceof IPv4Address || address instanceof IPv6Address);
      assert.equal(address.port, 0);
    }
  });

  test('gives an IP address back as it is, without a lookup', (t) => {
    const h = harness(t);
    const results: unknown[] = [];
    h.reactor.resolveHostName('::1').addCallback((a) => results.push(a));
    assert.ok((results[0] as IPv6Address[])[0]?.equals(new IPv6Address('TCP', '::1', 0)));
  });

  test('fails with DNSLookupError for a name that cannot exist', async (t) => {
    const h = harness(t);
    await assert.rejects(
      waitFor(h.reactor.resolveHostName('no-such-host.invalid'), 'the lookup', 25),
      DNSLookupError,
    );
  });
});

test('connectProtocol hands the connected protocol instance back', SUITE, async (t) => {
  const h = harness(t);
  const { port } = await listen(h, new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }));
  const mine = new Recorder();
  const connected: IProtocol = await waitFor(
    connectProtocol(new TCP4ClientEndpoint(h.reactor, LOCAL, portOf(port)), mine),
    'the connection',
  );
  assert.equal(connected, mine);
  mine.transport.loseConnection();
  await waitFor(mine.lost, 'connectionLost');
});
