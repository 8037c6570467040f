// The `torsion` binary as a child process (`node bin/torsion.js …`): its
// help, version and usage errors, and its plugins serving on loopback (port
// 0, learned from the "listening on" log line), stopped by SIGTERM. Every
// child is stopped by its PID when its test ends; waits are for output and
// exits, bounded.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { waitFor } from '../../helpers/sockets.js';
import { portOf, start, terminate, torsion, version } from './_command.js';

describe('the torsion command: help, version, usage errors', { timeout: 60_000 }, () => {
  test('--help prints the usage with the global options and the plugins, exit 0', async () => {
    const result = await torsion(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: torsion \[global options\] <plugin> \[plugin options\]/);
    for (const option of [
      '--log-level',
      '--log-format',
      '--log-file',
      '--workers',
      '--pid-file',
      '--shutdown-timeout',
      '--inject-faults',
    ]) {
      assert.ok(result.stdout.includes(option), option);
    }
    for (const plugin of ['echo', 'finger', 'run', 'time', 'web']) {
      assert.match(result.stdout, new RegExp(`^  ${plugin} `, 'm'));
    }
  });

  test('web --help prints the web plugin’s options, exit 0', async () => {
    const result = await torsion(['web', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--listen ENDPOINT/);
    assert.match(result.stdout, /--\[no-\]listing/);
  });

  test('--version prints the package version, exit 0', async () => {
    const result = await torsion(['--version']);
    assert.deepEqual(result, { code: 0, stdout: `torsion ${version}\n`, stderr: '' });
  });

  test('an unknown option: exit 2, one line on standard error with the valid options', async () => {
    const result = await torsion(['--frobnicate', 'web']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'torsion: unknown option --frobnicate; valid options: --log-level, --log-format, --log-file, ' +
        '--workers, --pid-file, --shutdown-timeout, --inject-faults, --help, --version (see torsion --help)\n',
    );
  });

  test('an unknown plugin: exit 2, one line', async () => {
    const result = await torsion(['gopher']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^torsion: unknown plugin gopher; available: echo, finger, proxy, reverse-proxy, run, time, web \(see torsion --help\)\n$/,
    );
  });
});

/** GETs `path` from 127.0.0.1:`port` with Node's client. */
function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  const result = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  return waitFor(result, `GET ${path}`, 10);
}

/** Connects to 127.0.0.1:`port`, writes `data` (if any), and resolves with all it reads until the server closes. */
function exchange(port: number, data?: string, closeAfter?: number): Promise<Buffer> {
  const result = new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let length = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (closeAfter !== undefined && length >= closeAfter) socket.end();
    });
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    if (data !== undefined) socket.write(data);
  });
  return waitFor(result, `an exchange on port ${port}`, 10);
}

const LOOPBACK = 'tcp:0:interface=127.0.0.1';

describe('the torsion command serving', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'torsion-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  writeFileSync(join(tmp, 'hello.txt'), 'hello from torsion web\n');

  test('web serves a file from --path, then SIGTERM stops it with exit 0', async (t) => {
    const server = start(t, ['web', '--path', tmp, '--listen', LOOPBACK]);
    const port = await portOf(server);
    assert.match(
      server.stdout(),
      /StreamServerEndpointService "web" listening on 127\.0\.0\.1:\d+/,
    );
    const reply = await fetchText(port, '/hello.txt');
    assert.deepEqual(reply, { status: 200, body: 'hello from torsion web\n' });
    assert.equal((await fetchText(port, '/absent')).status, 404);
    assert.equal(await terminate(server), 0);
    assert.equal(server.stderr(), '');
  });

  test('a port in use: exit 1, the reason on one line on standard error', async (t) => {
    const first = start(t, ['echo', '--listen', LOOPBACK]);
    const port = await portOf(first);
    const second = await torsion(['echo', '--listen', `tcp:${port}:interface=127.0.0.1`]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      /^torsion: cannot start: Couldn.t listen on 127\.0\.0\.1:\d+: EADDRINUSE\.\n$/,
    );
    assert.equal(await terminate(first), 0);
  });

  test('--log-format json writes one JSON object per line', async (t) => {
    const server = start(t, ['--log-format', 'json', 'echo', '--listen', LOOPBACK]);
    const port = await portOf(server);
    assert.equal((await exchange(port, 'ping', 4)).toString(), 'ping');
    assert.equal(await terminate(server), 0);
    const lines = server.stdout().trimEnd().split('\n');
    assert.ok(lines.length >= 2, server.stdout());
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const listening = events.find(
      (event) => event.log_format === '{service} listening on {address}',
    );
    assert.equal(listening?.address, `127.0.0.1:${port}`);
    assert.equal(listening?.log_level, 'info');
  });

  test('run: a module’s makeService gets the --key value pairs and the reactor, and its service runs', async (t) => {
    const dist = new URL('../../../src/', import.meta.url).href;
    writeFileSync(
      join(tmp, 'greeter.mjs'),
      [
        `import { StreamServerEndpointService } from '${dist}app/index.js';`,
        `import { serverFromString } from '${dist}internet/endpoints/index.js';`,
        `import { Factory, Protocol } from '${dist}internet/protocol.js';`,
        'export function makeService(options, reactor) {',
        '  class Greeter extends Protocol {',
        '    connectionMade() {',
        '      this.transport.write(Buffer.from(options.greeting + "\\n"));',
        '      this.transport.loseConnection();',
        '    }',
        '  }',
        '  const endpoint = serverFromString(reactor, options.listen);',
        '  return new StreamServerEndpointService(endpoint, Factory.forProtocol(Greeter));',
        '}',
      ].join('\n'),
    );
    const server = start(
      t,
      ['run', './greeter.mjs', '--greeting', 'bonjour', '--listen', LOOPBACK],
      tmp,
    );
    const port = await portOf(server);
    assert.equal((await exchange(port)).toString(), 'bonjour\n');
    assert.equal(await terminate(server), 0);
  });

  test('finger answers from its users file, and its web front end lists them', async (t) => {
    writeFileSync(join(tmp, 'users'), 'ada: computing\n');
    const server = start(t, [
      'finger',
      '--file',
      join(tmp, 'users'),
      '--listen',
      LOOPBACK,
      '--web',
      LOOPBACK,
    ]);
    const finger = await server.waitForOutput(/"finger" listening on 127\.0\.0\.1:(\d+)/, 'finger');
    const web = await server.waitForOutput(/"finger web" listening on 127\.0\.0\.1:(\d+)/, 'web');
    assert.equal((await exchange(Number(finger[1]), 'ada\r\n')).toString(), 'computing\r\n');
    assert.match((await fetchText(Number(web[1]), '/')).body, /ada<\/a>: computing/);
    assert.equal(await terminate(server), 0);
  });

  test('--log-file writes the log to the file, not to standard output; --pid-file holds the PID while it runs', async (t) => {
    const logFile = join(tmp, 'torsion.log');
    const pidFile = join(tmp, 'torsion.pid');
    const server = start(t, [
      '--log-file',
      logFile,
      '--pid-file',
      pidFile,
      'time',
      '--listen',
      LOOPBACK,
    ]);
    const match = await fileMatch(logFile, /listening on 127\.0\.0\.1:(\d+)/, server.closed);
    const port = Number(match[1]);
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.child.pid));
    const bytes = await exchange(port);
    assert.equal(bytes.length, 4);
    const seconds = bytes.readUInt32BE() - 2_208_988_800;
    assert.ok(Math.abs(seconds - Date.now() / 1000) < 60, `${seconds} is now`);
    assert.equal(await terminate(server), 0);
    assert.equal(server.stdout(), '');
    assert.match(readFileSync(logFile, 'utf8'), /Received SIGTERM, shutting down/);
    assert.equal(existsSync(pidFile), false, 'the PID file is removed at exit');
  });
});

/** The file's text, or '' while it does not exist. */
function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Resolves with the first match of `pattern` in the file at `path`,
 * checking each time its directory changes (fs.watch); fails if `exited`
 * settles first, or after 20 s.
 */
function fileMatch(
  path: string,
  pattern: RegExp,
  exited: Promise<unknown>,
): Promise<RegExpExecArray> {
  const watcher = watch(dirname(path));
  const found = new Promise<RegExpExecArray>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(readIfExists(path));
      if (match !== null) resolve(match);
    };
    watcher.on('change', check);
    watcher.on('error', reject);
    check();
    void exited.then(() =>
      reject(new Error(`exited before ${pattern} was in ${path}: ${readIfExists(path)}`)),
    );
  });
  return waitFor(found, `${pattern} in ${path}`, 20).finally(() => watcher.close());
}

describe('torsion --inject-faults', { timeout: 60_000 }, () => {
  test('echo on loopback with split and delayed reads and writes still echoes everything', async (t) => {
    const server = start(t, [
      '--inject-faults',
      'seed=3,split=1-3,delay=0-0.002',
      'echo',
      '--listen',
      LOOPBACK,
    ]);
    const port = await portOf(server);
    const message = 'a message cut into pieces of one to three bytes, each a little late';
    assert.equal((await exchange(port, message, message.length)).toString(), message);
    assert.match(server.stdout(), /Injecting faults \(seed=3,split=1-3,delay=0-0\.002\)/);
    assert.equal(await terminate(server), 0);
  });

  test('web on loopback serves a large file whole through split, delayed writes', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-faults-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const content = 'abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(8000); // 296 KB
    writeFileSync(join(dir, 'big.txt'), content);
    const server = start(t, [
      '--inject-faults',
      'seed=5,split=64-1024,delay=0-0.001',
      'web',
      '--path',
      dir,
      '--listen',
      LOOPBACK,
    ]);
    const port = await portOf(server);
    const reply = await fetchText(port, '/big.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, content.length);
    assert.ok(reply.body === content, 'the body arrived whole and in order');
    assert.equal(await terminate(server), 0);
  });

  test('refused, exit 2, when the plugin would listen beyond loopback', async () => {
    const result = await torsion([
      '--inject-faults',
      'seed=1,split=1',
      'echo',
      '--listen',
      'tcp:0',
    ]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'torsion: echo: --inject-faults is refused: --listen tcp:0 is not on loopback; fault ' +
        'injection is for tests on this machine: listen on 127.0.0.1, ::1, localhost or a UNIX ' +
        'socket (see torsion echo --help)\n',
    );
  });

  test('a bad spec: exit 2, the reason on one line', async () => {
    const result = await torsion(['--inject-faults', 'split=9-1', 'echo']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^torsion: invalid --inject-faults "split=9-1": split=9-1: the range's minimum 9 is above its maximum 1 \(see torsion --help\)\n$/,
    );
  });
});
