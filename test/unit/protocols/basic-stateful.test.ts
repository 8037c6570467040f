// StatefulStringProtocol and dispatchStringToState. Twisted's test_basic.py
// has no tests of StatefulStringProtocol; these follow its docstring, at
// every chunk size in SIZES.

import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { Failure } from 'torsion/defer';
import { captureLogs, type LogEvent } from 'torsion/logger';
import {
  dispatchStringToState,
  Int16StringReceiver,
  NetstringReceiver,
  type StatefulStringHandler,
  StatefulStringProtocol,
} from 'torsion/protocols/basic';
import { deliverInChunks, StringTransport } from 'torsion/testing';
import { bytes, SIZES } from '../../helpers/basic.js';

/** A login exchange: user name, then password, then commands until 'bye'. */
class Login extends StatefulStringProtocol {
  readonly seen: string[] = [];

  proto_init(user: Buffer): string {
    this.seen.push(`user ${user.toString('latin1')}`);
    return 'password';
  }

  proto_password(password: Buffer): string {
    this.seen.push(`password ${password.toString('latin1')}`);
    return 'command';
  }

  proto_command(command: Buffer): string | undefined {
    const text = command.toString('latin1');
    this.seen.push(`command ${text}`);
    if (text === 'bye') return 'done';
    if (text === 'oops') throw new RangeError('bad command');
    if (text === 'lost') return 'nowhere';
    return undefined;
  }
}

function netstrings(...strings: string[]): Buffer {
  return bytes(strings.map((s) => `${s.length}:${s},`).join(''));
}

function connect<P extends StatefulStringProtocol>(proto: P): StringTransport {
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return transport;
}

function captureBasicLogs(t: TestContext): () => LogEvent[] {
  const capture = captureLogs();
  t.after(() => capture.stop());
  return () => capture.events.filter((e) => e.log_namespace === 'torsion.protocols.basic');
}

describe('StatefulStringProtocol.stringReceived', () => {
  test('starts in the init state and is a NetstringReceiver', () => {
    const proto = new Login();
    assert.equal(proto.state, 'init');
    assert.ok(proto instanceof NetstringReceiver);
  });

  for (const size of SIZES) {
    test(`hands each string to the handler of the state the last one returned (${size}-byte chunks)`, () => {
      const proto = new Login();
      const transport = connect(proto);
      deliverInChunks(proto, netstrings('alice', 'secret', 'ls', 'pwd'), size);
      assert.deepEqual(proto.seen, ['user alice', 'password secret', 'command ls', 'command pwd']);
      // Returning nothing kept the state.
      assert.equal(proto.state, 'command');
      assert.equal(transport.disconnecting, false);
    });
  }

  for (const size of SIZES) {
    test(`closes the connection when the state becomes done, and dispatches nothing more (${size}-byte chunks)`, () => {
      const proto = new Login();
      const transport = connect(proto);
      deliverInChunks(proto, netstrings('alice', 'secret', 'bye', 'ls'), size);
      assert.deepEqual(proto.seen, ['user alice', 'password secret', 'command bye']);
      assert.equal(proto.state, 'done');
      assert.equal(transport.disconnecting, true);
    });
  }

  for (const size of SIZES) {
    test(`logs a handler's throw and drops the connection (${size}-byte chunks)`, (t) => {
      const logs = captureBasicLogs(t);
      const proto = new Login();
      const transport = connect(proto);
      deliverInChunks(proto, netstrings('alice', 'secret', 'oops', 'ls'), size);
      assert.deepEqual(proto.seen, ['user alice', 'password secret', 'command oops']);
      assert.equal(proto.state, 'command');
      assert.equal(transport.disconnecting, true);
      assert.equal(logs().length, 1);
      const event = logs()[0] as LogEvent;
      assert.equal(event.handler, 'proto_command');
      assert.equal(event.state, 'command');
      assert.equal(event.protocol, 'Login');
      assert.ok(event.log_failure instanceof Failure);
      assert.ok(event.log_failure.value instanceof RangeError);
    });
  }

  for (const size of SIZES) {
    test(`logs a state with no handler and drops the connection (${size}-byte chunks)`, (t) => {
      const logs = captureBasicLogs(t);
      const proto = new Login();
      const transport = connect(proto);
      deliverInChunks(proto, netstrings('alice', 'secret', 'lost', 'ls'), size);
      assert.deepEqual(proto.seen, ['user alice', 'password secret', 'command lost']);
      assert.equal(proto.state, 'nowhere');
      assert.equal(transport.disconnecting, true);
      assert.equal(logs().length, 1);
      const event = logs()[0] as LogEvent;
      assert.equal(event.log_level, 'error');
      assert.equal(event.handler, 'proto_nowhere');
      assert.equal(event.state, 'nowhere');
    });
  }
});

describe('dispatchStringToState', () => {
  /** AMP's framing: key and value strings with 2-byte prefixes, an empty key ends a box. */
  class Boxes extends Int16StringReceiver implements StatefulStringHandler {
    state = 'key';
    readonly boxes: Record<string, string>[] = [];
    #box: Record<string, string> = {};
    #key = '';

    override stringReceived(string: Buffer): void {
      dispatchStringToState(this, string);
    }

    proto_key(key: Buffer): string {
      if (key.length === 0) {
        this.boxes.push(this.#box);
        this.#box = {};
        return 'key';
      }
      this.#key = key.toString('utf8');
      return 'value';
    }

    proto_value(value: Buffer): string {
      this.#box[this.#key] = value.toString('utf8');
      return 'key';
    }
  }

  for (const size of SIZES) {
    test(`drives a protocol with another framing, by composition (${size}-byte chunks)`, () => {
      const proto = new Boxes();
      const sender = new Boxes();
      const wire = new StringTransport();
      sender.makeConnection(wire);
      for (const s of ['_ask', 'sum', 'a', '1', '', '_answer', '2', '']) sender.sendString(s);
      proto.makeConnection(new StringTransport());
      deliverInChunks(proto, wire.value(), size);
      assert.deepEqual(proto.boxes, [{ _ask: 'sum', a: '1' }, { _answer: '2' }]);
    });
  }

  test('names the protocol by its class when it has no logPrefix', (t) => {
    const logs = captureBasicLogs(t);
    let closed = 0;
    const target = {
      state: 'init',
      transport: {
        loseConnection: () => {
          closed++;
        },
      },
    };
    dispatchStringToState(target, bytes('x'));
    assert.equal(closed, 1);
    assert.equal(logs()[0]?.protocol, 'Object');
    assert.equal(logs()[0]?.handler, 'proto_init');
  });
});
