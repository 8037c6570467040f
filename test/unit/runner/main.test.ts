// The `torsion` command's main: what it prints, its exit statuses, and what
// it hands runApp, with the streams and runApp replaced (Twisted:
// application/twist/test/test_twist.py, TwistTests.test_options*).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MultiService } from '../../../src/app/multi-service.js';
import type { RunAppOptions, ServiceMaker } from '../../../src/app/run-app.js';
import { formatPluginHelp, formatUsage } from '../../../src/runner/help.js';
import { type MainOptions, main, packageVersion } from '../../../src/runner/main.js';
import { UsageError } from '../../../src/runner/options.js';
import type { TorsionPlugin } from '../../../src/runner/plugin.js';
import { webPlugin } from '../../../src/runner/plugins/web.js';
import { PluginRegistry } from '../../../src/runner/registry.js';
import { MemoryReactorClock } from '../../../src/testing/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'torsion-main-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Ran {
  maker: ServiceMaker;
  options: RunAppOptions;
}

/** Runs main with `argv`, capturing its output and what it would run. */
async function run(argv: string[], extra: MainOptions = {}) {
  let stdout = '';
  let stderr = '';
  const ran: Ran[] = [];
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd: tmp,
    registry: new PluginRegistry(),
    runApp: async (maker, options) => {
      ran.push({ maker, options });
      return 0;
    },
    ...extra,
  });
  return { code, stdout, stderr, ran };
}

const PLUGINS = 'echo, finger, proxy, reverse-proxy, run, time, web';

describe('torsion: help and version', () => {
  test('--version prints the package version and exits 0', async () => {
    const version = JSON.parse(
      readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8'),
    ).version;
    assert.equal(packageVersion(), version);
    const result = await run(['--version']);
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, `torsion ${version}\n`, '']);
    assert.equal((await run(['web', '--version'])).stdout, `torsion ${version}\n`);
  });

  test('--help prints the synopsis, every global option and every plugin, and exits 0 (test_synopsis)', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: torsion \[global options\] <plugin> \[plugin options\]\n/);
    for (const option of [
      '--log-level LEVEL',
      '--log-format FORMAT',
      '--log-file PATH',
      '--workers N',
      '--pid-file PATH',
      '--shutdown-timeout SECONDS',
      '--inject-faults SPEC',
      '-h, --help',
      '--version',
    ]) {
      assert.ok(result.stdout.includes(`  ${option} `), `${option} in\n${result.stdout}`);
    }
    for (const name of PLUGINS.split(', ')) {
      assert.match(result.stdout, new RegExp(`^  ${name} +\\S`, 'm'));
    }
    assert.equal((await run(['-h'])).stdout, result.stdout);
  });

  test('--help after a plugin name prints that plugin’s options, with their defaults', async () => {
    const result = await run(['web', '--help']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, formatPluginHelp(webPlugin));
    assert.match(result.stdout, /^Usage: torsion \[global options\] web \[options\]\n/);
    assert.match(result.stdout, /--listen ENDPOINT .*\(default: tcp:8080:interface=127\.0\.0\.1\)/);
    assert.match(result.stdout, /--path DIR .*\(default: \.\)/);
    assert.match(result.stdout, /--index NAME .*\(default: index\.html\)/);
    assert.match(result.stdout, /--\[no-\]listing .*\(default: off\)/);
    const runHelp = (await run(['run', '-h'])).stdout;
    assert.match(
      runHelp,
      /^Usage: torsion \[global options\] run \[options\] MODULE \[--KEY VALUE\]…\n/,
    );
  });

  test('a plugin from a package is listed with its package name', () => {
    const text = formatUsage([
      { name: 'hello', description: 'Says hello', source: 'torsion-hello' },
    ]);
    assert.match(text, /^ {2}hello {2}Says hello \[torsion-hello\]$/m);
  });
});

describe('torsion: usage errors exit 2 with one line on standard error', () => {
  const oneLine = (stderr: string): string => {
    assert.match(stderr, /^torsion: [^\n]*\n$/, JSON.stringify(stderr));
    return stderr.trimEnd();
  };

  test('an unknown global option, with the list of valid ones', async () => {
    const result = await run(['--nope', 'web']);
    assert.equal(result.code, 2);
    assert.equal(
      oneLine(result.stderr),
      'torsion: unknown option --nope; valid options: --log-level, --log-format, --log-file, ' +
        '--workers, --pid-file, --shutdown-timeout, --inject-faults, --help, --version (see torsion --help)',
    );
    assert.equal(result.stdout, '');
    assert.deepEqual(result.ran, []);
  });

  test('a bad value names the valid ones', async () => {
    const result = await run(['--log-level', 'loud', 'web']);
    assert.equal(result.code, 2);
    assert.equal(
      oneLine(result.stderr),
      'torsion: invalid --log-level "loud": expected one of debug, info, warn, error, critical (see torsion --help)',
    );
  });

  test('an unknown plugin, with the plugins there are', async () => {
    const result = await run(['nope']);
    assert.equal(result.code, 2);
    assert.equal(
      oneLine(result.stderr),
      `torsion: unknown plugin nope; available: ${PLUGINS} (see torsion --help)`,
    );
  });

  test('no plugin: the error line, then the usage and the plugin list', async () => {
    const result = await run([]);
    assert.equal(result.code, 2);
    const [first, blank, ...rest] = result.stderr.split('\n');
    assert.equal(first, `torsion: no plugin given; available: ${PLUGINS} (see torsion --help)`);
    assert.equal(blank, '');
    assert.equal(rest.join('\n'), formatUsage(await new PluginRegistry().list()));
  });

  test('an unknown plugin option, with the plugin’s valid ones and its help', async () => {
    const result = await run(['web', '--nope']);
    assert.equal(result.code, 2);
    assert.equal(
      oneLine(result.stderr),
      'torsion: web: unknown option --nope; valid options: --listen, --path, --index, --listing, ' +
        '--help, --version (see torsion web --help)',
    );
  });

  test('a global option after the plugin name says to put it before', async () => {
    const result = await run(['echo', '--workers', '2']);
    assert.equal(result.code, 2);
    assert.equal(
      oneLine(result.stderr),
      'torsion: echo: --workers is a global option: put it before the plugin name "echo" (see torsion echo --help)',
    );
  });

  test('a plugin’s check refusing its options (a bad endpoint, a missing directory)', async () => {
    const endpoint = await run(['echo', '--listen', 'tcp:x']);
    assert.equal(endpoint.code, 2);
    assert.match(
      oneLine(endpoint.stderr),
      /^torsion: echo: --listen: bad endpoint description 'tcp:x'.* \(see torsion echo --help\)$/,
    );
    const path = await run(['web', '--path', join(tmp, 'absent')]);
    assert.equal(path.code, 2);
    assert.match(
      oneLine(path.stderr),
      /^torsion: web: --path ".*absent": cannot serve it \(ENOENT\)/,
    );
    assert.deepEqual([...endpoint.ran, ...path.ran], []);
  });

  test('a plugin’s check throwing an error with code ERR_USAGE is a usage error too; any other error exits 1', async () => {
    const plugin = (check: () => never) => ({
      name: 'picky',
      description: 'Refuses',
      check,
      makeService: () => {
        throw new Error('not reached');
      },
    });
    const entry = (check: () => never) => [
      { name: 'picky', description: 'Refuses', load: async () => plugin(check) },
    ];
    const usage = await run(['picky'], {
      registry: new PluginRegistry(
        entry(() => {
          throw Object.assign(new Error('--level must be set\nmore'), { code: 'ERR_USAGE' });
        }),
      ),
    });
    assert.deepEqual(
      [usage.code, usage.stderr],
      [2, 'torsion: picky: --level must be set (see torsion picky --help)\n'],
    );
    const other = await run(['picky'], {
      registry: new PluginRegistry(
        entry(() => {
          throw new Error('database unreachable');
        }),
      ),
    });
    assert.deepEqual([other.code, other.stderr], [1, 'torsion: picky: database unreachable\n']);
    assert.deepEqual([...usage.ran, ...other.ran], []);
  });

  test('run: a module exporting nothing usable exits 2; one that throws on import exits 1, on one line', async () => {
    writeFileSync(join(tmp, 'nothing.mjs'), 'export const x = 1;\n');
    writeFileSync(join(tmp, 'throws.mjs'), 'throw new Error("no config file\\nat line 2");\n');
    const nothing = await run(['run', './nothing.mjs']);
    assert.equal(nothing.code, 2);
    assert.match(
      oneLine(nothing.stderr),
      /^torsion: run: \.\/nothing\.mjs exports neither makeService/,
    );
    const throws = await run(['run', './throws.mjs']);
    assert.equal(throws.code, 1);
    assert.equal(
      oneLine(throws.stderr),
      'torsion: run: importing ./throws.mjs failed: Error: no config file',
    );
  });
});

describe('torsion: running a plugin', () => {
  test('hands runApp a maker of the plugin’s service and the global options', async () => {
    const result = await run([
      '--log-level=debug',
      '--log-format',
      'json',
      '--log-file',
      'out.log',
      '--workers',
      '3',
      '--pid-file',
      'x.pid',
      '--shutdown-timeout',
      '2',
      'echo',
      '--listen',
      'tcp:7007',
    ]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.equal(result.ran.length, 1);
    const ran = result.ran[0] as Ran;
    assert.deepEqual(ran.options, {
      logLevel: 'debug',
      logFormat: 'json',
      logFile: 'out.log',
      shutdownTimeout: 2,
      workers: 3,
      pidFile: 'x.pid',
      programName: 'torsion',
    });
    const reactor = new MemoryReactorClock();
    const service = await ran.maker(reactor);
    service.privilegedStartService();
    service.startService();
    assert.deepEqual(
      reactor.tcpServers.map(([port]) => port),
      [7007],
    );
    await service.stopService();
  });

  test('returns runApp’s exit status', async () => {
    const result = await run(['echo'], { runApp: async () => 1 });
    assert.equal(result.code, 1);
  });

  test('a plugin’s one-shot command: a number is the exit status and no service runs; undefined runs the service', async () => {
    const plugin: TorsionPlugin = {
      name: 'oneshot',
      description: 'A plugin with a one-shot action',
      options: [{ name: 'say', type: 'string', metavar: 'TEXT', help: 'print TEXT and exit' }],
      command(options, io) {
        const text = options.optionalString('say');
        if (text === undefined) return undefined;
        if (text === 'fail') throw new UsageError('--say fail: refused');
        io.stdout(`${text}\n`);
        return 3;
      },
      makeService: () => new MultiService(),
    };
    const registry = () => new PluginRegistry([{ ...plugin, load: async () => plugin }]);
    const said = await run(['oneshot', '--say', 'hi'], { registry: registry() });
    assert.deepEqual([said.code, said.stdout, said.ran.length], [3, 'hi\n', 0]);
    const refused = await run(['oneshot', '--say', 'fail'], { registry: registry() });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^torsion: oneshot: --say fail: refused \(see torsion oneshot --help\)\n$/,
    );
    const served = await run(['oneshot'], { registry: registry() });
    assert.deepEqual([served.code, served.ran.length], [0, 1]);
  });

  test('warnings about discovered plugins go to standard error, prefixed, and do not stop the command', async () => {
    const dir = mkdtempSync(join(tmp, 'project-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'app', torsion: { plugins: ['./broken.js'] } }),
    );
    writeFileSync(join(dir, 'broken.js'), 'throw new Error("kaboom");\n');
    const result = await run(['--help'], { cwd: dir, registry: undefined as never });
    assert.equal(result.code, 0);
    assert.equal(
      result.stderr,
      'torsion: warning: package app (./broken.js): cannot load the plugin module: kaboom; ignored\n',
    );
    assert.match(result.stdout, /^ {2}web /m);
  });
});
