// Finger stage 9 (docs/tutorial/finger.md): the finger server that answers
// with the output of a `finger` command, run against a MemoryReactorClock
// whose spawnProcess records the command and hands out a fake process the
// test plays; and the stand-in command's own text.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHUNK_SIZES,
  deliverInChunks,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';
import { fingerText } from '../../examples/finger/fake-finger.js';
import { FAKE_FINGER, main } from '../../examples/finger/finger09.js';

/** Starts stage 9 on a MemoryReactorClock and connects one client over a StringTransport. */
function connectClient(command?: readonly [string, ...string[]]) {
  const reactor = new MemoryReactorClock();
  successResultOf(main(reactor, command === undefined ? {} : { command }));
  const [port, factory] = reactor.tcpServers[0] ?? assert.fail('no listenTCP');
  const transport = new StringTransport();
  const protocol = factory.buildProtocol(transport.getPeer());
  assert.ok(protocol !== null);
  protocol.makeConnection(transport);
  return { reactor, port, protocol, transport };
}

describe('finger, stage 9: answers with the output of finger', () => {
  test('listens on 1079 and runs `finger <user>` (the stand-in by default), no shell, empty env', () => {
    for (const size of CHUNK_SIZES) {
      const { reactor, port, protocol } = connectClient();
      assert.equal(port, 1079);
      deliverInChunks(protocol, Buffer.from('moshez\r\n'), size);
      const [, executable, args, options] = reactor.processes[0] ?? assert.fail('no process');
      assert.equal(executable, FAKE_FINGER[0]);
      assert.deepEqual(args, [...FAKE_FINGER, 'moshez']);
      assert.deepEqual(options.env, {});
    }
  });

  test("the command's output, trailing newline trimmed, is the answer; then the server hangs up", () => {
    const { reactor, protocol, transport } = connectClient(['/usr/bin/finger']);
    protocol.dataReceived(Buffer.from('moshez\r\n'));
    const [, executable, args, , child] = reactor.processes[0] ?? assert.fail('no process');
    assert.equal(executable, '/usr/bin/finger');
    assert.deepEqual(args, ['/usr/bin/finger', 'moshez']);
    assert.equal(transport.value().length, 0, 'nothing is written before the command ends');
    child.output(1, 'Login: moshez\nPlan:\nHappy and well\n');
    child.exit(0);
    assert.equal(transport.value().toString(), 'Login: moshez\nPlan:\nHappy and well\r\n');
    assert.equal(transport.disconnecting, true);
  });

  test('output on standard error (an unknown user) is an internal error', () => {
    const { reactor, protocol, transport } = connectClient();
    protocol.dataReceived(Buffer.from('nobody\r\n'));
    const child = reactor.processes[0]?.[4] ?? assert.fail('no process');
    child.output(2, 'finger: nobody: no such user.\n');
    assert.equal(transport.value().toString(), 'Internal error in server\r\n');
    assert.equal(transport.disconnecting, true);
    assert.deepEqual(child.closedChildFDs.sort(), [0, 1, 2], 'the command is cut off');
  });

  test('a command that cannot be started is an internal error', () => {
    const { reactor, protocol, transport } = connectClient(['/no/finger']);
    protocol.dataReceived(Buffer.from('moshez\r\n'));
    const child = reactor.processes[0]?.[4] ?? assert.fail('no process');
    child.failToStart(Object.assign(new Error('spawn /no/finger ENOENT'), { code: 'ENOENT' }));
    assert.equal(transport.value().toString(), 'Internal error in server\r\n');
  });

  test('the stand-in prints a record for the users it knows, nothing for others', () => {
    assert.equal(
      fingerText('moshez'),
      'Login: moshez\t\t\tName: Moshe Zadka\nPlan:\nHappy and well\n',
    );
    assert.equal(fingerText('nobody'), undefined);
  });
});
