// The `torsion --inject-faults SPEC` option: its parsing, the refusal unless
// the plugin listens on loopback (exit 2), and the reactor view that wraps
// each listening factory in a FaultInjectingFactory.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AppReactor, RunAppOptions, ServiceMaker } from '../../../src/app/run-app.js';
import { Factory, Protocol } from '../../../src/internet/protocol.js';
import { FaultInjectingFactory } from '../../../src/protocols/policies/faults.js';
import { checkFaultsOnLoopback, faultInjectingReactor } from '../../../src/runner/_faults.js';
import { main } from '../../../src/runner/main.js';
import { PluginOptions, parseCommandLine, UsageError } from '../../../src/runner/options.js';
import { echoPlugin } from '../../../src/runner/plugins/echo.js';
import { runPlugin } from '../../../src/runner/plugins/run.js';
import { PluginRegistry } from '../../../src/runner/registry.js';
import { MemoryReactorClock } from '../../../src/testing/memory-reactor.js';

async function run(argv: string[]) {
  let stderr = '';
  const ran: { maker: ServiceMaker; options: RunAppOptions }[] = [];
  const code = await main(argv, {
    stdout: () => undefined,
    stderr: (text) => {
      stderr += text;
    },
    registry: new PluginRegistry(),
    runApp: async (maker, options) => {
      ran.push({ maker, options });
      return 0;
    },
  });
  return { code, stderr, ran };
}

describe('--inject-faults on the command line', () => {
  test('is off by default, and parsed into a plan when given', () => {
    const plain = parseCommandLine(['echo']);
    assert.equal(plain.kind, 'plugin');
    assert.equal(plain.kind === 'plugin' && 'injectFaults' in plain.global, false);
    const line = parseCommandLine([
      '--inject-faults',
      'seed=7,split=1-16,reset-after=4096',
      'echo',
    ]);
    assert.equal(line.kind, 'plugin');
    assert.deepEqual(line.kind === 'plugin' ? line.global.injectFaults : undefined, {
      seed: 7,
      split: { min: 1, max: 16 },
      resetAfter: 4096,
    });
  });

  test('a bad spec is a usage error naming the option and the problem', () => {
    assert.deepEqual(parseCommandLine(['--inject-faults=nope=1', 'echo']), {
      kind: 'error',
      message:
        'invalid --inject-faults "nope=1": unknown fault key "nope"; valid keys: seed, split, ' +
        'delay, direction, reset-after, half-close-after, stall, stall-after',
      usage: false,
    });
  });

  test('refused with exit 2 when the plugin would listen beyond loopback; runApp never runs', async () => {
    const result = await run(['--inject-faults', 'split=1', 'echo', '--listen', 'tcp:8000']);
    assert.equal(result.code, 2);
    assert.deepEqual(result.ran, []);
    assert.match(
      result.stderr,
      /^torsion: echo: --inject-faults is refused: --listen tcp:8000 is not on loopback; .*\(see torsion echo --help\)\n$/,
    );
    const second = await run([
      '--inject-faults',
      'split=1',
      'echo',
      '--listen',
      'tcp:1:interface=127.0.0.1',
      '--listen',
      'tcp6:2:interface=\\:\\:',
    ]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /--listen tcp6:2:interface=\\:\\: is not on loopback/);
  });

  test('on loopback, the service listens with its factory wrapped in a FaultInjectingFactory', async () => {
    const result = await run(['--inject-faults', 'seed=4,split=2', 'echo']);
    assert.equal(result.code, 0, result.stderr);
    const reactor = new MemoryReactorClock();
    const service = await (result.ran[0] as { maker: ServiceMaker }).maker(
      reactor as unknown as AppReactor,
    );
    service.privilegedStartService();
    service.startService();
    const [record] = reactor.tcpServers;
    assert.equal(record?.[0], 8000);
    const factory = record?.[1];
    assert.ok(factory instanceof FaultInjectingFactory);
    assert.deepEqual(factory.plan, { seed: 4, split: { min: 2, max: 2 } });
    assert.equal(factory.clock, reactor);
    await service.stopService();
  });

  test('without the option, the factory is the plugin’s own', async () => {
    const result = await run(['echo']);
    const reactor = new MemoryReactorClock();
    const service = await (result.ran[0] as { maker: ServiceMaker }).maker(
      reactor as unknown as AppReactor,
    );
    service.privilegedStartService();
    service.startService();
    assert.ok(!(reactor.tcpServers[0]?.[1] instanceof FaultInjectingFactory));
    await service.stopService();
  });
});

describe('checkFaultsOnLoopback and faultInjectingReactor', () => {
  test('UNIX sockets and loopback interfaces pass; a plugin with no endpoint options passes', () => {
    const options = (listen: string[]) => new PluginOptions({ listen });
    checkFaultsOnLoopback(echoPlugin, options(['unix:/tmp/x.sock', 'tcp:1:interface=localhost']));
    assert.throws(
      () => checkFaultsOnLoopback(echoPlugin, options(['tcp:1:interface=192.0.2.1'])),
      UsageError,
    );
    checkFaultsOnLoopback(runPlugin, new PluginOptions({}, { module: 'x.js' }));
  });

  test('the view wraps listenTCP and listenUNIX, refuses a non-loopback interface, and passes the rest', () => {
    const reactor = new MemoryReactorClock();
    const view = faultInjectingReactor(reactor as unknown as AppReactor, { seed: 1 });
    class Echo extends Protocol {}
    view.listenTCP(1, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
    view.listenUNIX('/tmp/faults.sock', Factory.forProtocol(Echo));
    assert.ok(reactor.tcpServers[0]?.[1] instanceof FaultInjectingFactory);
    assert.ok(reactor.unixServers[0]?.[1] instanceof FaultInjectingFactory);
    assert.throws(
      () => view.listenTCP(2, Factory.forProtocol(Echo)),
      /--inject-faults is refused: port 2 would listen on every interface, not loopback/,
    );
    assert.throws(
      () => view.listenTCP(3, Factory.forProtocol(Echo), { interface: '0.0.0.0' }),
      /port 3 would listen on 0\.0\.0\.0/,
    );
    let called = false;
    view.callLater(1, () => {
      called = true;
    });
    reactor.advance(1);
    assert.equal(called, true);
    assert.equal(view.seconds(), reactor.seconds());
  });
});
