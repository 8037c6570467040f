// The built-in plugins' services on a MemoryReactorClock: where they listen,
// what they log when listening, and that they serve (each connection played
// on a StringTransport).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { IService } from '../../../src/app/service.js';
import { IPv4Address } from '../../../src/internet/address.js';
import { CannotListenError } from '../../../src/internet/error.js';
import type { IProtocolFactory, ListenTCPOptions } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/index.js';
import { parsePluginArguments } from '../../../src/runner/main.js';
import { type PluginOptions, UsageError } from '../../../src/runner/options.js';
import type { TorsionPlugin } from '../../../src/runner/plugin.js';
import { echoPlugin } from '../../../src/runner/plugins/echo.js';
import { fingerPlugin, parseUsersFile } from '../../../src/runner/plugins/finger.js';
import { importRunnable, ModuleLoadError, runPlugin } from '../../../src/runner/plugins/run.js';
import { RFC868_EPOCH_OFFSET, timePlugin } from '../../../src/runner/plugins/time.js';
import { webPlugin } from '../../../src/runner/plugins/web.js';
import {
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from '../../../src/testing/index.js';
import { parseReplies } from '../web/_server.js';

const tmp = mkdtempSync(join(tmpdir(), 'torsion-plugins-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The options `args` give `plugin`; fails the test on a parse error. */
function optionsFor(plugin: TorsionPlugin, args: string[]): PluginOptions {
  const parsed = parsePluginArguments(plugin, args);
  assert.equal(parsed.kind, 'options', JSON.stringify(parsed));
  if (parsed.kind !== 'options') throw new Error('unreachable');
  return parsed.options;
}

/** Checks the options, makes the service on `reactor` and starts it; returns it and its children's names. */
async function start(
  plugin: TorsionPlugin,
  args: string[],
  reactor = new MemoryReactorClock(1_000_000_000),
): Promise<{ service: IService; reactor: MemoryReactorClock; names: (string | undefined)[] }> {
  const options = optionsFor(plugin, args);
  await plugin.check?.(options);
  const service = await plugin.makeService(options, reactor);
  service.privilegedStartService();
  service.startService();
  const iterable = Symbol.iterator in service;
  const children = iterable ? [...(service as unknown as Iterable<IService>)] : [];
  return { service, reactor, names: children.map((child) => child.name) };
}

/** A connection to the factory the reactor's `index`th TCP port serves. */
function connect(reactor: MemoryReactorClock, index = 0) {
  const factory = reactor.tcpServers[index]?.[1] as IProtocolFactory;
  const transport = new StringTransportWithDisconnection<IPv4Address>({
    peerAddress: new IPv4Address('TCP', '127.0.0.1', 40000),
    hostAddress: new IPv4Address('TCP', '127.0.0.1', reactor.tcpServers[index]?.[0] ?? 0),
    lenient: true,
  });
  const protocol = factory.buildProtocol(transport.getPeer());
  assert.ok(protocol !== null);
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  return { protocol, transport };
}

/** Sends an HTTP GET on a new connection to port `index` and returns the reply. */
function get(reactor: MemoryReactorClock, path: string, index = 0) {
  const { protocol, transport } = connect(reactor, index);
  protocol.dataReceived(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
  for (
    let i = 0;
    i < 1000 && reactor.getDelayedCalls().some((c) => c.getTime() <= reactor.seconds());
    i++
  ) {
    reactor.advance(0);
  }
  const replies = parseReplies(transport.value());
  assert.equal(replies.length, 1, transport.value().toString('latin1'));
  return replies[0] as NonNullable<(typeof replies)[0]>;
}

/** [port, interface] of each TCP listen call. */
function listened(reactor: MemoryReactorClock): [number, string][] {
  return reactor.tcpServers.map(([port, , , iface]) => [port, iface]);
}

describe('echo', () => {
  test('listens on tcp:8000 at 127.0.0.1 by default, in a service named echo, and echoes', async () => {
    const { service, reactor, names } = await start(echoPlugin, []);
    assert.deepEqual(listened(reactor), [[8000, '127.0.0.1']]);
    assert.deepEqual(names, ['echo']);
    const { protocol, transport } = connect(reactor);
    protocol.dataReceived(Buffer.from('hello'));
    protocol.dataReceived(Buffer.from(' there'));
    assert.equal(transport.value().toString(), 'hello there');
    await service.stopService();
    assert.ok(reactor.ports.every((port) => port.stoppedListening));
  });

  test('--listen may be given several times: one port each, in services numbered from 1', async () => {
    const { reactor, names } = await start(echoPlugin, [
      '--listen',
      'tcp:7001:interface=127.0.0.1',
      '--listen=tcp:7002',
    ]);
    assert.deepEqual(listened(reactor), [
      [7001, '127.0.0.1'],
      [7002, ''],
    ]);
    assert.deepEqual(names, ['echo 1', 'echo 2']);
  });

  test('a bad endpoint string is a usage error naming the option, before anything starts', () => {
    assert.throws(
      () => echoPlugin.check?.(optionsFor(echoPlugin, ['--listen', 'tcp:notaport'])),
      (error: unknown) =>
        error instanceof UsageError &&
        /^--listen: bad endpoint description 'tcp:notaport'/.test(error.message),
    );
  });

  test('a port that cannot be had makes the start throw, so the command exits 1', async () => {
    class Busy extends MemoryReactorClock {
      override listenTCP(port: number, _f: IProtocolFactory, _o?: ListenTCPOptions): never {
        throw new CannotListenError('127.0.0.1', port, 'address already in use');
      }
    }
    const options = optionsFor(echoPlugin, []);
    const service = await echoPlugin.makeService(options, new Busy());
    const capture = captureLogs();
    try {
      assert.throws(() => service.privilegedStartService(), CannotListenError);
    } finally {
      capture.stop();
    }
  });
});

describe('time', () => {
  test('listens on tcp:1100 at 127.0.0.1 by default, as the texts do', async () => {
    const { reactor, names } = await start(timePlugin, []);
    assert.deepEqual(listened(reactor), [[1100, '127.0.0.1']]);
    assert.deepEqual(names, ['time']);
  });

  test('sends the seconds since 1900 as 4 big-endian bytes (RFC 868), then hangs up', async () => {
    const { reactor } = await start(timePlugin, [], new MemoryReactorClock(1_000_000_000.75));
    const { transport } = connect(reactor);
    assert.deepEqual(transport.value(), Buffer.from([0xbf, 0x45, 0x48, 0x80]));
    assert.equal(transport.value().readUInt32BE(), 1_000_000_000 + RFC868_EPOCH_OFFSET);
    assert.equal(transport.disconnecting, true);
  });

  test('the count wraps modulo 2^32 after 2036, as the RFC’s 32 bits do', async () => {
    const later = 2 ** 32 - RFC868_EPOCH_OFFSET + 5; // 2036-02-07 plus 5 s
    const { reactor } = await start(timePlugin, [], new MemoryReactorClock(later));
    assert.equal(connect(reactor).transport.value().readUInt32BE(), 5);
  });
});

describe('web', () => {
  const site = join(tmp, 'site');
  mkdirSync(join(site, 'docs'), { recursive: true });
  mkdirSync(join(site, 'bare'), { recursive: true });
  writeFileSync(join(site, 'hello.txt'), 'hello, web\n');
  writeFileSync(join(site, 'index.html'), '<p>home</p>');
  writeFileSync(join(site, 'docs', 'start.html'), '<p>docs</p>');
  writeFileSync(join(site, 'bare', 'a.txt'), 'a');

  test('listens on tcp:8080 at 127.0.0.1 by default and serves the files under --path', async () => {
    const { reactor, names } = await start(webPlugin, ['--path', site]);
    assert.deepEqual(listened(reactor), [[8080, '127.0.0.1']]);
    assert.deepEqual(names, ['web']);
    const reply = get(reactor, '/hello.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hello, web\n');
    assert.match(reply.header('content-type') ?? '', /^text\/plain/);
    assert.equal(get(reactor, '/').body, '<p>home</p>');
    assert.equal(get(reactor, '/nope').status, 404);
  });

  test('--index names the files a directory answers with (repeated or comma-separated)', async () => {
    const { reactor } = await start(webPlugin, ['--path', site, '--index', 'x.html,start.html']);
    assert.equal(get(reactor, '/docs/').body, '<p>docs</p>');
  });

  test('--listing lists a directory without an index; without it the directory is forbidden', async () => {
    const plain = await start(webPlugin, ['--path', site]);
    assert.equal(get(plain.reactor, '/bare/').status, 403);
    const listing = await start(webPlugin, ['--path', site, '--listing']);
    const reply = get(listing.reactor, '/bare/');
    assert.equal(reply.status, 200);
    assert.match(reply.body, /a\.txt/);
  });

  test('several --listen: one Site on each endpoint', async () => {
    const { reactor } = await start(webPlugin, [
      '--path',
      site,
      '--listen',
      'tcp:9001',
      '--listen',
      'tcp:9002:interface=127.0.0.1',
    ]);
    assert.deepEqual(listened(reactor), [
      [9001, ''],
      [9002, '127.0.0.1'],
    ]);
    assert.equal(get(reactor, '/hello.txt', 1).body, 'hello, web\n');
  });

  test('a --path that does not exist is a usage error', () => {
    assert.throws(
      () => webPlugin.check?.(optionsFor(webPlugin, ['--path', join(tmp, 'absent')])),
      (error: unknown) =>
        error instanceof UsageError &&
        /^--path ".*absent": cannot serve it \(ENOENT\)$/.test(error.message),
    );
  });
});

describe('finger', () => {
  const users = join(tmp, 'users');
  writeFileSync(users, 'moshez: Happy and well\nshawn : Busy\n\nnot a user line\n');

  test('parseUsersFile reads user:status lines, trimming, skipping lines without a colon', () => {
    assert.deepEqual(
      [...parseUsersFile('a:b\n c : d e \nnothing\n:empty name\n')],
      [
        ['a', 'b'],
        ['c', 'd e'],
      ],
    );
  });

  test('listens on tcp:1079 at 127.0.0.1 by default and answers a query with the status', async () => {
    const { reactor, names, service } = await start(fingerPlugin, ['--file', users]);
    assert.deepEqual(listened(reactor), [[1079, '127.0.0.1']]);
    assert.deepEqual(names, ['finger users', 'finger']);
    const known = connect(reactor);
    known.protocol.dataReceived(Buffer.from('moshez\r\n'));
    assert.equal(known.transport.value().toString(), 'Happy and well\r\n');
    assert.equal(known.transport.disconnecting, true);
    const unknown = connect(reactor);
    unknown.protocol.dataReceived(Buffer.from('nobody\r\n'));
    assert.equal(unknown.transport.value().toString(), 'No such user\r\n');
    await service.stopService();
    assert.deepEqual(reactor.getDelayedCalls(), [], 'the re-reading is cancelled');
  });

  test('re-reads the users file every 30 seconds', async () => {
    const file = join(tmp, 'users-changing');
    writeFileSync(file, 'ann: in\n');
    const { reactor } = await start(fingerPlugin, ['--file', file]);
    writeFileSync(file, 'ann: out\n');
    reactor.advance(29);
    const before = connect(reactor);
    before.protocol.dataReceived(Buffer.from('ann\r\n'));
    assert.equal(before.transport.value().toString(), 'in\r\n');
    reactor.advance(1);
    const afterReread = connect(reactor);
    afterReread.protocol.dataReceived(Buffer.from('ann\r\n'));
    assert.equal(afterReread.transport.value().toString(), 'out\r\n');
  });

  test('--web serves the users on the web: / lists them, /USER shows one, 404 for an unknown one', async () => {
    const { reactor, names } = await start(fingerPlugin, ['--file', users, '--web', 'tcp:8001']);
    assert.deepEqual(listened(reactor), [
      [1079, '127.0.0.1'],
      [8001, ''],
    ]);
    assert.deepEqual(names, ['finger users', 'finger', 'finger web']);
    const list = get(reactor, '/', 1);
    assert.match(list.body, /<a href="\/moshez">moshez<\/a>: Happy and well/);
    assert.match(list.body, /shawn<\/a>: Busy/);
    assert.match(get(reactor, '/shawn', 1).body, /<p>Busy<\/p>/);
    assert.equal(get(reactor, '/nobody', 1).status, 404);
  });

  test('--file is required, and must be a readable file', () => {
    const check = (args: string[]) => () => fingerPlugin.check?.(optionsFor(fingerPlugin, args));
    assert.throws(check([]), /^UsageError: --file PATH is required/);
    assert.throws(check(['--file', join(tmp, 'absent')]), /cannot read it \(ENOENT\)/);
    assert.throws(check(['--file', tmp]), /not a file/);
  });
});

describe('run', () => {
  const write = (name: string, source: string): string => {
    writeFileSync(join(tmp, name), source);
    return join(tmp, name);
  };
  const serviceSource = `
    export class Recorder {
      constructor(options, reactor) { this.options = options; this.reactor = reactor; this.running = false; }
      startService() { this.running = true; }
      stopService() { this.running = false; }
      privilegedStartService() {}
    }`;

  test('uses the makeService export, with the undeclared --key value pairs as strings', async () => {
    const path = write(
      'maker.mjs',
      `${serviceSource}\nexport function makeService(options, reactor) { return new Recorder(options, reactor); }\n`,
    );
    const reactor = new MemoryReactorClock();
    const { service } = await start(runPlugin, [path, '--greeting', 'hi', '--port=80'], reactor);
    const made = service as unknown as { options: unknown; reactor: unknown; running: boolean };
    assert.deepEqual(made.options, { greeting: 'hi', port: '80' });
    assert.equal(made.reactor, reactor);
    assert.equal(made.running, true);
  });

  test('uses a default export that is a service', async () => {
    const path = write(
      'default-service.mjs',
      `${serviceSource}\nexport default new Recorder({}, null);\n`,
    );
    const { service } = await start(runPlugin, [path]);
    assert.equal(service.running, true);
  });

  test('uses a default export that is a service maker, called with the reactor', async () => {
    const path = write(
      'default-maker.mjs',
      `${serviceSource}\nexport default async (reactor, options) => new Recorder(options, reactor);\n`,
    );
    const reactor = new MemoryReactorClock();
    const { service } = await start(runPlugin, [path, '--a', 'b'], reactor);
    assert.equal((service as unknown as { reactor: unknown }).reactor, reactor);
  });

  test('resolves a relative path against the current directory', async () => {
    const path = write(
      'relative.mjs',
      `${serviceSource}\nexport default new Recorder({}, null);\n`,
    );
    const relative = `./${join('.', path.slice(process.cwd().length + 1))}`;
    if (path.startsWith(process.cwd())) {
      assert.ok(await importRunnable(relative, process.cwd()));
    }
    assert.ok(await importRunnable(`./${path.split('/').pop()}`, tmp));
  });

  test('a module exporting neither is a usage error; a missing module too', async () => {
    const path = write('nothing.mjs', 'export const x = 1;\n');
    await assert.rejects(
      () => importRunnable(path, tmp),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `${path} exports neither makeService(options, reactor) nor a default service or service maker`,
    );
    await assert.rejects(
      () => importRunnable('./absent.js', tmp),
      /^UsageError: no module at "\.\/absent\.js"/,
    );
    await assert.rejects(
      () => importRunnable('no-such-package-xyz', tmp),
      /^UsageError: cannot find module "no-such-package-xyz"/,
    );
  });

  test('a module that throws on import is a ModuleLoadError (exit 1) with the reason on one line', async () => {
    const path = write('throws.mjs', 'throw new RangeError("bad config\\nsecond line");\n');
    await assert.rejects(
      () => importRunnable(path, tmp),
      (error: unknown) =>
        error instanceof ModuleLoadError &&
        error.message === `importing ${path} failed: RangeError: bad config`,
    );
  });

  test('MODULE is required', () => {
    assert.deepEqual(parsePluginArguments(runPlugin, []), {
      kind: 'error',
      message: 'missing argument MODULE',
    });
  });
});
