// The proxy and reverse-proxy plugins on a MemoryReactorClock: where they
// listen, the refusal to be an open proxy, --check-rules and --explain as
// one-shot commands, the rules file reloaded on SIGHUP, the status page on
// the proxy's own address, and the reverse proxy's mount and upstreams.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { IService } from '../../../src/app/service.js';
import { IPv4Address } from '../../../src/internet/address.js';
import type { IProtocolFactory } from '../../../src/internet/interfaces.js';
import { captureLogs, formatEvent } from '../../../src/logger/index.js';
import { parsePluginArguments } from '../../../src/runner/main.js';
import { type PluginOptions, UsageError } from '../../../src/runner/options.js';
import type { TorsionPlugin } from '../../../src/runner/plugin.js';
import { proxyPlugin } from '../../../src/runner/plugins/proxy.js';
import { reverseProxyPlugin } from '../../../src/runner/plugins/reverse-proxy.js';
import {
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from '../../../src/testing/index.js';
import { parseReplies } from '../web/_server.js';

const tmp = mkdtempSync(join(tmpdir(), 'torsion-proxy-plugins-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function optionsFor(plugin: TorsionPlugin, args: string[]): PluginOptions {
  const parsed = parsePluginArguments(plugin, args);
  assert.equal(parsed.kind, 'options', JSON.stringify(parsed));
  if (parsed.kind !== 'options') throw new Error('unreachable');
  return parsed.options;
}

async function start(plugin: TorsionPlugin, args: string[]) {
  const reactor = new MemoryReactorClock(1_000_000_000);
  const options = optionsFor(plugin, args);
  await plugin.check?.(options);
  const service: IService = await plugin.makeService(options, reactor);
  service.privilegedStartService();
  service.startService();
  return { service, reactor };
}

/** Runs the plugin's one-shot command; returns its status and output. */
async function run(plugin: TorsionPlugin, args: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await plugin.command?.(optionsFor(plugin, args), {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { status, stdout, stderr };
}

/** Sends `request` on a new connection (from `peer`) to the first port; returns what came back. */
function exchange(reactor: MemoryReactorClock, request: string, peer = '127.0.0.1') {
  const factory = reactor.tcpServers[0]?.[1] as IProtocolFactory;
  const transport = new StringTransportWithDisconnection<IPv4Address>({
    peerAddress: new IPv4Address('TCP', peer, 40000),
    hostAddress: new IPv4Address('TCP', '127.0.0.1', reactor.tcpServers[0]?.[0] ?? 0),
    lenient: true,
  });
  const protocol = factory.buildProtocol(transport.getPeer());
  assert.ok(protocol !== null);
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  protocol.dataReceived(Buffer.from(request, 'latin1'));
  reactor.advance(0);
  return { transport, replies: parseReplies(transport.value()) };
}

function rulesFile(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('torsion proxy', () => {
  test('listens on 127.0.0.1:8080 by default, with the built-in rules and its status page', async () => {
    const logs = captureLogs();
    try {
      const { reactor, service } = await start(proxyPlugin, []);
      assert.deepEqual(
        reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
        [[8080, '127.0.0.1']],
      );
      const text = logs.events.map(formatEvent).join('\n');
      assert.match(text, /Rules: built-in/);
      assert.match(text, /curl -x http:\/\/127\.0\.0\.1:8080 http:\/\/example\.com\//);
      assert.match(text, /http:\/\/127\.0\.0\.1:8080\/_torsion\//);
      const { replies } = exchange(
        reactor,
        'GET http://ad.doubleclick.net/x HTTP/1.1\r\nHost: ad.doubleclick.net\r\n\r\n',
      );
      assert.equal(replies[0]?.status, 403);
      const status = exchange(
        reactor,
        'GET /_torsion/stats.json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
      );
      assert.equal(status.replies[0]?.status, 200);
      assert.equal(
        (
          JSON.parse(status.replies[0]?.body ?? '{}') as {
            counters: { blockedConnections: number };
          }
        ).counters.blockedConnections,
        1,
      );
      await service.stopService();
    } finally {
      logs.stop();
    }
  });

  test('refuses to listen beyond loopback without --allow-client', () => {
    assert.throws(
      () => proxyPlugin.check?.(optionsFor(proxyPlugin, ['--listen', 'tcp:8080'])),
      (error: unknown) =>
        error instanceof UsageError &&
        /--allow-client/.test(error.message) &&
        /open proxy/.test(error.message),
    );
    assert.throws(
      () =>
        proxyPlugin.check?.(
          optionsFor(proxyPlugin, [
            '--listen',
            'tcp:8080:interface=0.0.0.0',
            '--allow-client',
            'nonsense',
          ]),
        ),
      (error: unknown) => error instanceof UsageError && /^--allow-client: /.test(error.message),
    );
  });

  test('beyond loopback with --allow-client: serves that range, refuses others', async () => {
    const { reactor } = await start(proxyPlugin, [
      '--listen',
      'tcp:8080',
      '--allow-client',
      '192.0.2.0/24',
    ]);
    const allowed = exchange(
      reactor,
      'GET / HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n',
      '192.0.2.9',
    );
    assert.equal(allowed.replies[0]?.status, 200);
    const refused = exchange(
      reactor,
      'GET / HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n',
      '198.51.100.1',
    );
    assert.equal(refused.transport.value().length, 0);
    assert.ok(refused.transport.disconnecting || refused.transport.disconnected);
  });

  test('a bad rules file or upstream proxy URL is a usage error before anything starts', () => {
    const bad = rulesFile('bad.rules', 'block .ok.example\nblok x.example\n');
    assert.throws(
      () => proxyPlugin.check?.(optionsFor(proxyPlugin, ['--rules', bad])),
      (error: unknown) => error instanceof UsageError && /:2: /.test(error.message),
    );
    assert.throws(
      () => proxyPlugin.check?.(optionsFor(proxyPlugin, ['--upstream-proxy', 'ftp://x'])),
      (error: unknown) => error instanceof UsageError && /^--upstream-proxy/.test(error.message),
    );
  });

  test('--check-rules prints each bad line with its number, status 1; a good file, status 0', async () => {
    const bad = rulesFile('check-bad.rules', 'block .ok.example\nblok x.example\nstrip-header\n');
    const result = await run(proxyPlugin, ['--check-rules', bad]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /:2: .*blok/);
    assert.match(result.stderr, /:3: /);
    assert.match(result.stderr, /2 bad lines/);
    const good = rulesFile('check-good.rules', '# fine\nblock .ok.example\n');
    const ok = await run(proxyPlugin, ['--check-rules', good]);
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /1 rule, no problems/);
    const missing = await run(proxyPlugin, ['--check-rules', join(tmp, 'absent.rules')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read it \(ENOENT\)/);
  });

  test('--explain shows the rules that match a URL and the verdict', async () => {
    const rules = rulesFile('explain.rules', 'block .example.com\nallow www.example.com\n');
    const result = await run(proxyPlugin, [
      '--rules',
      rules,
      '--explain',
      'http://www.example.com/',
    ]);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^http:\/\/www\.example\.com\//);
    assert.match(result.stdout, /line 2\s+wins/);
    assert.match(result.stdout, /verdict: /);
    const bad = await run(proxyPlugin, ['--explain', 'not a url']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^--explain: /);
  });

  test('without --check-rules or --explain, the command runs the service', async () => {
    assert.equal((await run(proxyPlugin, [])).status, undefined);
  });

  test('SIGHUP reads the rules file again; a bad new file leaves the old rules', async () => {
    const path = rulesFile('hup.rules', 'block one.example\n');
    const logs = captureLogs();
    try {
      const { reactor, service } = await start(proxyPlugin, ['--rules', path]);
      assert.equal(
        exchange(reactor, 'GET http://one.example/ HTTP/1.1\r\nHost: one.example\r\n\r\n')
          .replies[0]?.status,
        403,
      );
      writeFileSync(path, 'block two.example\n');
      process.emit('SIGHUP');
      assert.equal(
        exchange(reactor, 'GET http://two.example/ HTTP/1.1\r\nHost: two.example\r\n\r\n')
          .replies[0]?.status,
        403,
      );
      writeFileSync(path, 'blok three.example\n');
      process.emit('SIGHUP');
      assert.equal(
        exchange(reactor, 'GET http://two.example/ HTTP/1.1\r\nHost: two.example\r\n\r\n')
          .replies[0]?.status,
        403,
        'the old rules stay in force',
      );
      assert.ok(logs.events.some((e) => /stay in force/.test(formatEvent(e))));
      await service.stopService();
      assert.equal(process.listenerCount('SIGHUP'), 0, 'the handler is removed when it stops');
    } finally {
      logs.stop();
    }
  });
});

describe('torsion reverse-proxy', () => {
  test('mounts the upstreams at --path (404 elsewhere) on 127.0.0.1:8080', async () => {
    const { reactor } = await start(reverseProxyPlugin, [
      '--upstream',
      'http://127.0.0.1:9001/base',
      '--upstream',
      'http://127.0.0.1:9002/base/',
      '--path',
      '/api',
    ]);
    assert.deepEqual(
      reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
      [[8080, '127.0.0.1']],
    );
    assert.equal(
      exchange(reactor, 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n').replies[0]?.status,
      404,
    );
    exchange(reactor, 'GET /api/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    exchange(reactor, 'GET /api/c HTTP/1.1\r\nHost: x\r\n\r\n');
    reactor.advance(0);
    assert.deepEqual(
      reactor.tcpClients.map(([host, port]) => `${host}:${port}`),
      ['127.0.0.1:9001', '127.0.0.1:9002'],
      'round-robin over both upstreams',
    );
  });

  test('an https:// upstream is reached with TLS, on port 443 by default', async () => {
    const { reactor } = await start(reverseProxyPlugin, ['--upstream', 'https://127.0.0.1/base']);
    exchange(reactor, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    reactor.advance(0);
    assert.deepEqual(
      reactor.sslClients.map(([host, port]) => `${host}:${port}`),
      ['127.0.0.1:443'],
    );
    assert.equal(reactor.tcpClients.length, 0);
  });

  test('bad upstreams and paths are usage errors', () => {
    const check = (args: string[]) => () =>
      reverseProxyPlugin.check?.(optionsFor(reverseProxyPlugin, args));
    const usage = (pattern: RegExp) => (error: unknown) =>
      error instanceof UsageError && pattern.test(error.message);
    assert.throws(check([]), usage(/at least one --upstream/));
    assert.throws(check(['--upstream', 'nonsense']), usage(/not a URL/));
    assert.throws(check(['--upstream', 'ftp://127.0.0.1/']), usage(/http:\/\/ or https:\/\//));
    assert.throws(
      check(['--upstream', 'http://a:1/x', '--upstream', 'http://b:2/y']),
      usage(/same path/),
    );
    assert.throws(
      check(['--upstream', 'http://a:1/', '--path', 'api']),
      usage(/must start with \//),
    );
  });
});
