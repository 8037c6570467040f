// spawnProcess when the child cannot be started (no such executable, not
// executable, no such working directory, a uid that cannot be taken) and
// when the arguments are malformed: the first are reported to the protocol
// as Twisted's failed exec is, never thrown; the second throw at once with a
// message naming the fault.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { ProcessExitedAlready, ProcessProtocol, ProcessTerminated } from 'torsion/protocol';
import { NodeReactor } from 'torsion/reactor';
import { Signal, waitFor } from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };

class Recorder extends ProcessProtocol {
  readonly events: string[] = [];
  readonly ended = new Signal<Failure>();
  override connectionMade(): void {
    this.events.push('connectionMade');
  }
  override childConnectionLost(childFD: number): void {
    this.events.push(`lost ${childFD}`);
  }
  override processExited(): void {
    this.events.push('processExited');
  }
  override processEnded(reason: Failure): void {
    this.events.push('processEnded');
    this.ended.fire(reason);
  }
}

async function startFailure(
  executable: string,
  options: Parameters<NodeReactor['spawnProcess']>[3] = {},
): Promise<{ p: Recorder; error: ProcessTerminated }> {
  const reactor = new NodeReactor();
  const p = new Recorder();
  const transport = reactor.spawnProcess(p, executable, [executable], options);
  assert.equal(transport.pid, undefined, 'no pid: the process did not start');
  assert.deepEqual(
    p.events,
    ['connectionMade'],
    'nothing but connectionMade before spawnProcess returns',
  );
  const reason = await waitFor(p.ended.promise, 'processEnded');
  assert.ok(reason.value instanceof ProcessTerminated);
  assert.throws(() => transport.signalProcess('TERM'), ProcessExitedAlready);
  return { p, error: reason.value };
}

describe('spawnProcess: a child that cannot start', SUITE, () => {
  test('no such executable: processExited, every pipe lost, processEnded with exit code 1 and the ENOENT cause', async () => {
    const { p, error } = await startFailure('/nonexistent/program');
    assert.equal(error.exitCode, 1);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
    assert.match(error.message, /could not be started .*ENOENT/);
    assert.equal(p.events.at(-1), 'processEnded');
    assert.deepEqual(p.events.filter((e) => e.startsWith('lost')).sort(), [
      'lost 0',
      'lost 1',
      'lost 2',
    ]);
    assert.equal(p.events.filter((e) => e === 'processExited').length, 1);
  });

  test('a name not found in PATH', async () => {
    const { error } = await startFailure('no-such-program-torsion');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });

  test('not executable: EACCES', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-process-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'not a program\n', { mode: 0o644 });
    const { error } = await startFailure(file);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'EACCES');
  });

  test('no such working directory', async () => {
    const { error } = await startFailure('true', { path: '/nonexistent/dir' });
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });

  test('a uid that cannot be taken (not root): EPERM, which Node throws, is reported the same way', {
    skip: process.getuid?.() === 0 ? 'running as root: every uid can be taken' : false,
  }, async () => {
    const { error } = await startFailure('true', { uid: 0 });
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'EPERM');
  });
});

describe('spawnProcess: malformed arguments throw at once, naming the fault', () => {
  const reactor = new NodeReactor();
  const p = new ProcessProtocol();
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'usePTY',
      () => reactor.spawnProcess(p, 'true', ['true'], { usePTY: true }),
      /usePTY is not supported/,
    ],
    [
      'an empty executable',
      () => reactor.spawnProcess(p, '', []),
      /executable must be a non-empty string/,
    ],
    [
      'a NUL byte',
      () => reactor.spawnProcess(p, 'true', ['true', 'a\0b']),
      /args\[1\] must be a string without NUL/,
    ],
    [
      'a non-string arg',
      () => reactor.spawnProcess(p, 'true', ['true', 3 as unknown as string]),
      /args\[1\]/,
    ],
    [
      'args not an array',
      () => reactor.spawnProcess(p, 'true', 'true' as unknown as string[]),
      /args must be an array/,
    ],
    [
      'an env value not a string',
      () => reactor.spawnProcess(p, 'true', ['true'], { env: { A: 1 as unknown as string } }),
      /env\["A"\]/,
    ],
    [
      'a bad childFDs target',
      () => reactor.spawnProcess(p, 'true', ['true'], { childFDs: { 0: 'x' as 'r' } }),
      /childFDs\[0\] must be/,
    ],
    [
      'a bad uid',
      () => reactor.spawnProcess(p, 'true', ['true'], { uid: -1 }),
      /uid must be a non-negative integer/,
    ],
    [
      'no protocol',
      () => reactor.spawnProcess(null as unknown as ProcessProtocol, 'true', ['true']),
      /processProtocol/,
    ],
  ];
  for (const [what, call, message] of cases) {
    test(what, () => {
      assert.throws(call, message);
      assert.equal(p.connected, false, 'the protocol is not connected');
    });
  }
});
