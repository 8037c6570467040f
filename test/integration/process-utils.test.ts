// torsion/utils with real programs (Twisted: test/test_iutils.py): output,
// stderr as an error or as output, exit codes, signals, stdin bytes, env and
// path, a program that does not exist, and the global reactor as default.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProcessTerminated } from 'torsion/protocol';
import { NodeReactor } from 'torsion/reactor';
import {
  getProcessOutput,
  getProcessOutputAndValue,
  getProcessValue,
  ProcessSignalError,
  UnexpectedErrorOutput,
} from 'torsion/utils';
import { waitFor } from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };
const NODE = process.execPath;

describe('torsion/utils with real programs', SUITE, () => {
  const reactor = new NodeReactor();

  test('getProcessOutput: stdout; args reach the program as given', async () => {
    const out = await waitFor(
      getProcessOutput(
        NODE,
        ['-e', 'process.stdout.write(process.argv.slice(1).join("|"))', 'a b', '$X'],
        { reactor },
      ),
      'the output',
    );
    assert.equal(out.toString(), 'a b|$X');
  });

  test('getProcessOutput: stderr fails it with UnexpectedErrorOutput; processEnded follows', async () => {
    const d = getProcessOutput(NODE, ['-e', 'process.stderr.write("warning")'], { reactor });
    const error = await waitFor(d, 'the failure').then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnexpectedErrorOutput);
    assert.equal(error.stderr.toString(), 'warning');
    const ended = await waitFor(error.processEnded, 'the end of the program');
    assert.ok(ended instanceof Error);
  });

  test('getProcessOutput with errortoo: both outputs', async () => {
    const out = await waitFor(
      getProcessOutput('sh', ['-c', 'echo out; echo err >&2'], { reactor, errortoo: true }),
      'the output',
    );
    assert.deepEqual(out.toString().split('\n').filter(Boolean).sort(), ['err', 'out']);
  });

  test('getProcessOutput: env and path', async () => {
    const out = await waitFor(
      getProcessOutput('sh', ['-c', 'printf "%s %s" "$GREETING" "$(pwd)"'], {
        reactor,
        env: { GREETING: 'hello' },
        path: '/tmp',
      }),
      'the output',
    );
    assert.equal(out.toString(), 'hello /tmp');
  });

  test('getProcessValue: the exit code; undefined after a signal', async () => {
    assert.equal(
      await waitFor(getProcessValue('sh', ['-c', 'exit 3'], { reactor }), 'the value'),
      3,
    );
    assert.equal(await waitFor(getProcessValue('true', [], { reactor }), 'the value'), 0);
    assert.equal(
      await waitFor(getProcessValue('sh', ['-c', 'kill -KILL $$'], { reactor }), 'the value'),
      undefined,
    );
  });

  test('getProcessOutputAndValue: both outputs and the code; stdinBytes', async () => {
    const [out, err, code] = await waitFor(
      getProcessOutputAndValue('sh', ['-c', 'cat; echo e >&2; exit 4'], {
        reactor,
        stdinBytes: Buffer.from('from stdin'),
      }),
      'the result',
    );
    assert.equal(out.toString(), 'from stdin');
    assert.equal(err.toString(), 'e\n');
    assert.equal(code, 4);
  });

  test('getProcessOutputAndValue: a signal fails it with ProcessSignalError', async () => {
    const error = await waitFor(
      getProcessOutputAndValue('sh', ['-c', 'echo before; kill -TERM $$'], { reactor }),
      'the failure',
    ).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ProcessSignalError);
    assert.equal(error.signalName, 'SIGTERM');
    assert.equal(error.out.toString(), 'before\n');
  });

  test('a program that does not exist fails each helper with ProcessTerminated (cause ENOENT)', async () => {
    const runs: Array<() => PromiseLike<unknown>> = [
      () => getProcessOutput('/nonexistent/prog', [], { reactor }),
      () => getProcessValue('/nonexistent/prog', [], { reactor }),
      () => getProcessOutputAndValue('/nonexistent/prog', [], { reactor }),
    ];
    for (const run of runs) {
      const error = await waitFor(run(), 'the failure').then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ProcessTerminated);
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
    }
  });

  test('without a reactor, the global one is used', async () => {
    const out = await waitFor(getProcessOutput('sh', ['-c', 'echo global']), 'the output');
    assert.equal(out.toString(), 'global\n');
  });
});
