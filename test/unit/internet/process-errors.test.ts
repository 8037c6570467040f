// ProcessDone, ProcessTerminated and ProcessExitedAlready: what they carry,
// their messages, and their place among the connection errors, as Twisted's
// (ProcessDone is a ConnectionDone, ProcessTerminated a ConnectionLost).

import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import {
  ConnectionDone,
  ConnectionLost,
  ProcessDone,
  ProcessExitedAlready,
  ProcessTerminated,
  TorsionError,
} from 'torsion';

describe('process errors', () => {
  test('ProcessDone: exit code 0, no signal, a ConnectionDone', () => {
    const done = new ProcessDone();
    assert.ok(done instanceof ConnectionDone);
    assert.equal(done.exitCode, 0);
    assert.equal(done.signal, undefined);
    assert.equal(done.status, 0);
    assert.equal(done.name, 'ProcessDone');
    assert.equal(done.code, 'ERR_PROCESS_DONE');
    assert.match(done.message, /without apparent errors/);
  });

  test('ProcessTerminated with an exit code', () => {
    const error = new ProcessTerminated(3);
    assert.ok(error instanceof ConnectionLost);
    assert.equal(error.exitCode, 3);
    assert.equal(error.signal, undefined);
    assert.equal(error.signalName, undefined);
    assert.equal(error.status, 3 << 8);
    assert.equal(error.code, 'ERR_PROCESS_TERMINATED');
    assert.match(error.message, /probable error condition: process ended with exit code 3/);
  });

  test('ProcessTerminated with a signal, by name or number', () => {
    const byName = new ProcessTerminated(undefined, 'SIGKILL');
    assert.equal(byName.signal, constants.signals.SIGKILL);
    assert.equal(byName.signalName, 'SIGKILL');
    assert.equal(byName.exitCode, undefined);
    assert.equal(byName.status, constants.signals.SIGKILL);
    assert.match(byName.message, /ended by signal SIGKILL/);
    const byNumber = new ProcessTerminated(undefined, constants.signals.SIGTERM);
    assert.equal(byNumber.signalName, 'SIGTERM');
  });

  test('ProcessTerminated for a process that could not start names the cause', () => {
    const cause = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
    const error = new ProcessTerminated(1, undefined, { cause });
    assert.equal(error.cause, cause);
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /could not be started \(spawn \/x ENOENT\)/);
  });

  test('ProcessExitedAlready', () => {
    const error = new ProcessExitedAlready();
    assert.ok(error instanceof TorsionError);
    assert.equal(error.code, 'ERR_PROCESS_EXITED_ALREADY');
    assert.match(error.message, /already exited/);
  });
});
