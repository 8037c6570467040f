// torsion/utils on a MemoryReactor: getProcessOutput, getProcessValue and
// getProcessOutputAndValue, with the fake child played by the test (Twisted:
// test/test_iutils.py, the behaviours that need no real process).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProcessTerminated } from 'torsion/protocol';
import { assertNoResult, failureResultOf, MemoryReactor, successResultOf } from 'torsion/testing';
import {
  getProcessOutput,
  getProcessOutputAndValue,
  getProcessValue,
  ProcessSignalError,
  UnexpectedErrorOutput,
} from 'torsion/utils';

function lastProcess(reactor: MemoryReactor) {
  const record = reactor.processes.at(-1);
  assert.ok(record !== undefined, 'a process was spawned');
  return record;
}

describe('getProcessOutput', () => {
  test('spawns the executable with its name first and an empty env; fires with stdout', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutput('/bin/echo', ['a', 'b'], { reactor, path: '/tmp' });
    const [, executable, args, options, child] = lastProcess(reactor);
    assert.equal(executable, '/bin/echo');
    assert.deepEqual(args, ['/bin/echo', 'a', 'b']);
    assert.deepEqual(options, { env: {}, path: '/tmp' });
    child.output(1, 'a ');
    child.output(1, 'b\n');
    assertNoResult(d);
    child.exit(1); // the exit code is not looked at
    assert.equal(successResultOf(d).toString(), 'a b\n');
  });

  test('output on stderr fails it at once with UnexpectedErrorOutput and closes the pipes', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutput('prog', [], { reactor, env: { A: '1' } });
    const [, , , options, child] = lastProcess(reactor);
    assert.deepEqual(options.env, { A: '1' });
    child.output(2, 'bad things');
    const error = failureResultOf(d, UnexpectedErrorOutput).value as UnexpectedErrorOutput;
    assert.equal(error.stderr.toString(), 'bad things');
    assert.match(error.message, /got stderr: "bad things"/);
    assert.deepEqual(child.closedChildFDs.sort(), [0, 1, 2]);
    assertNoResult(error.processEnded);
    child.exit(0);
    assert.equal(successResultOf(error.processEnded).constructor.name, 'ProcessDone');
  });

  test('with errortoo, stderr is output, mixed in as it comes', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutput('prog', [], { reactor, errortoo: true });
    const child = lastProcess(reactor)[4];
    child.output(1, 'out1 ');
    child.output(2, 'err ');
    child.output(1, 'out2');
    child.exit(0);
    assert.equal(successResultOf(d).toString(), 'out1 err out2');
  });

  test('a program that could not start fails it with the ProcessTerminated carrying the cause', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutput('nope', [], { reactor });
    const cause = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    lastProcess(reactor)[4].failToStart(cause);
    const error = failureResultOf(d, ProcessTerminated).value as ProcessTerminated;
    assert.equal(error.cause, cause);
    assert.equal(error.exitCode, 1);
    for (const run of [getProcessValue, getProcessOutputAndValue]) {
      const other = run('nope', [], { reactor });
      lastProcess(reactor)[4].failToStart(cause);
      assert.equal(
        (failureResultOf(other, ProcessTerminated).value as ProcessTerminated).cause,
        cause,
      );
    }
  });

  test('a throw from spawnProcess (malformed arguments) fails the Deferred', () => {
    const bad = {
      spawnProcess(): never {
        throw new TypeError('spawnProcess: args[1] must be a string');
      },
    };
    const d = getProcessOutput('x', [], { reactor: bad });
    assert.match(String(failureResultOf(d, TypeError).value), /args\[1\]/);
  });
});

describe('getProcessValue', () => {
  test('fires with the exit code; with undefined for a signal, as Twisted with None', () => {
    const reactor = new MemoryReactor();
    const d = getProcessValue('prog', ['x'], { reactor });
    lastProcess(reactor)[4].exit(3);
    assert.equal(successResultOf(d), 3);
    const zero = getProcessValue('prog', [], { reactor });
    lastProcess(reactor)[4].exit(0);
    assert.equal(successResultOf(zero), 0);
    const killed = getProcessValue('prog', [], { reactor });
    lastProcess(reactor)[4].killedBy('SIGKILL');
    assert.equal(successResultOf(killed), undefined);
  });
});

describe('getProcessOutputAndValue', () => {
  test('fires with [out, err, code]', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutputAndValue('prog', [], { reactor });
    const child = lastProcess(reactor)[4];
    child.output(1, 'o');
    child.output(2, 'e');
    child.exit(2);
    const [out, err, code] = successResultOf(d);
    assert.equal(out.toString(), 'o');
    assert.equal(err.toString(), 'e');
    assert.equal(code, 2);
  });

  test('a signal fails it with ProcessSignalError carrying the outputs and the signal', () => {
    const reactor = new MemoryReactor();
    const d = getProcessOutputAndValue('prog', [], { reactor });
    const child = lastProcess(reactor)[4];
    child.output(1, 'partial');
    child.killedBy('SIGTERM');
    const error = failureResultOf(d, ProcessSignalError).value as ProcessSignalError;
    assert.equal(error.out.toString(), 'partial');
    assert.equal(error.err.length, 0);
    assert.equal(error.signalName, 'SIGTERM');
    assert.deepEqual(error.result, [error.out, error.err, error.signal]);
  });

  test('stdinBytes are written to stdin, which is then closed', () => {
    const reactor = new MemoryReactor();
    getProcessOutputAndValue('cat', [], { reactor, stdinBytes: Buffer.from('input') });
    const child = lastProcess(reactor)[4];
    assert.equal(child.value().toString(), 'input');
    assert.deepEqual(child.closedChildFDs, [0]);
  });
});
