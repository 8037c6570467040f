// The listen backlog reaches the kernel: 511 by default (Node's, not
// Twisted's 50, which stalls a burst of connections for a second or more),
// for TCP, TLS and UNIX ports and the server endpoints, and a backlog given
// is passed as given. Read back from the kernel with `ss` (Send-Q of a
// listening socket is its backlog); skipped where `ss` is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { TCP4ServerEndpoint, UNIXServerEndpoint } from 'torsion/endpoints';
import type { IListeningPort } from 'torsion/reactor';
import { CollectingFactory, harness, Recorder, waitFor } from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';

function hasSS(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const SUITE = {
  timeout: 30_000,
  skip: (process.platform !== 'linux' || !hasSS()) && 'needs Linux and ss',
};

/** The kernel's cap on a backlog (`net.core.somaxconn`). */
function somaxconn(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The backlog the kernel holds for a socket listening on TCP port `port`. */
function tcpBacklog(port: number): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  // LISTEN <Recv-Q> <Send-Q> <local> <peer>
  const fields = line.split(/\s+/);
  assert.equal(fields[0], 'LISTEN', line);
  return Number(fields[2]);
}

/** The backlog the kernel holds for a UNIX socket listening on `path`. */
function unixBacklog(path: string): number {
  const line = execFileSync('ss', ['-Hlx', 'src', path], { encoding: 'utf8' }).trim();
  // u_str LISTEN <Recv-Q> <Send-Q> <path> <inode> * 0
  const fields = line.split(/\s+/);
  assert.equal(fields[1], 'LISTEN', line);
  return Number(fields[3]);
}

function portOf(listening: IListeningPort): number {
  return (listening.getHost() as unknown as { port: number }).port;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-backlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the listen backlog', SUITE, () => {
  const expected = Math.min(511, somaxconn());

  test('listenTCP passes 511 by default, and a backlog given as given', (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    assert.equal(tcpBacklog(portOf(h.listenTCP(0, factory, { interface: LOCAL }))), expected);
    const small = h.listenTCP(0, factory, { interface: LOCAL, backlog: 7 });
    assert.equal(tcpBacklog(portOf(small)), 7);
  });

  test('listenSSL passes 511 by default', (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const listening = h.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: LOCAL });
    assert.equal(tcpBacklog(portOf(listening)), expected);
  });

  test('listenUNIX passes 511 by default, and a backlog given as given', (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const factory = new CollectingFactory(() => new Recorder());
    const path = join(dir, 'default.sock');
    h.listenUNIX(path, factory);
    assert.equal(unixBacklog(path), expected);
    const small = join(dir, 'small.sock');
    h.listenUNIX(small, factory, { backlog: 7 });
    assert.equal(unixBacklog(small), 7);
  });

  test('the TCP and UNIX server endpoints pass 511 by default', async (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const tcp = await waitFor(
      new TCP4ServerEndpoint(h.reactor, 0, { interface: LOCAL }).listen(factory),
      'the TCP endpoint to listen',
    );
    h.adopt(tcp);
    assert.equal(tcpBacklog(portOf(tcp)), expected);
    const path = join(tempDir(t), 'endpoint.sock');
    const unix = await waitFor(
      new UNIXServerEndpoint(h.reactor, path).listen(factory),
      'the UNIX endpoint to listen',
    );
    h.adopt(unix);
    assert.equal(unixBacklog(path), expected);
  });
});
