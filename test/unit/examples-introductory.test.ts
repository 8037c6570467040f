// The introductory example programs (the toy reactors, print_later, the
// firecracker, the fuses, slow_multiply), run against deterministic
// reactors: each prints what it should, at the times it should.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Factory } from 'torsion/protocol';
import { Clock } from 'torsion/task';
import { MemoryReactorClock, StringTransport, successResultOf } from 'torsion/testing';
import { main as chainOfFuses } from '../../examples/chain-of-fuses.js';
import { type Chat, ChatFactory, main as chatServer } from '../../examples/chat-server.js';
import { Echo, main as echoServer } from '../../examples/echo-server.js';
import { chainOnFate, Fate, type FateClock, firecrackerOnFate } from '../../examples/fate.js';
import { main as firecracker } from '../../examples/firecracker.js';
import { main as printLater } from '../../examples/print-later.js';
import { main as printLaterTwice } from '../../examples/print-later-twice.js';
import { runOnSimplestReactor, main as simplest } from '../../examples/simplest-reactor.js';
import { main as slowMultiply } from '../../examples/slow-multiply.js';
import { main as timeServer } from '../../examples/time-server.js';

/** Lines printed, each with the clock's time. */
function recorder(clock: { seconds(): number }): {
  lines: Array<[number, string]>;
  print: (line: string) => void;
} {
  const lines: Array<[number, string]> = [];
  return { lines, print: (line) => lines.push([clock.seconds(), line]) };
}

/** A FateClock driven by hand: sleeping advances time at once. */
function fateClock(): FateClock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    sleep: async (seconds: number) => {
      clock.time += seconds;
    },
  };
  return clock;
}

describe('the simplest event-driven engine', () => {
  const expected = ['Running', 'Doing thing 1', 'Doing thing 2', 'Doing thing 3: and stopping'];

  test('the toy reactor runs the queued things one per turn, then stops', async () => {
    const lines: string[] = [];
    await runOnSimplestReactor(
      (line) => lines.push(line),
      async () => undefined,
    );
    assert.deepEqual(lines, [...expected, 'Done!']);
  });

  test('Torsion runs the same program with callLater(0) and stop()', () => {
    const reactor = new MemoryReactorClock();
    const lines: string[] = [];
    simplest(reactor, (line) => lines.push(line));
    assert.deepEqual(lines, ['Running']);
    reactor.advance(0);
    assert.deepEqual(lines, expected);
    assert.equal(reactor.hasStopped, true);
  });
});

describe('Fate and its fuses', () => {
  test('the firecracker explodes in the hands of whoever holds it, then Fate shuts down 2 s later', async () => {
    const clock = fateClock();
    const lines: string[] = [];
    await firecrackerOnFate(
      new Fate(clock),
      (line) => lines.push(line),
      () => 0.99,
    );
    assert.deepEqual(lines, ['BOOM! Firecracker exploded in the unlucky hands of Ben Eills']);
    assert.ok(clock.time >= 4 && clock.time < 4.5, `shut down at ${clock.time}`);
  });

  test('the chain of fuses ignites eight fuses, then Parliament explodes', async () => {
    const lines: string[] = [];
    await chainOnFate(new Fate(fateClock()), (line) => lines.push(line));
    assert.deepEqual(lines, [
      ...Array.from({ length: 8 }, () => '...igniting next fuse in chain...'),
      'Boom! The Houses of Parliament explode!',
    ]);
  });

  test('a fuse without a handler stays until it has one', () => {
    const clock = fateClock();
    const fate = new Fate(clock);
    const fuse = fate.getFuse(1);
    clock.time = 5;
    fate.checkFuses();
    assert.equal(fate.fuses.length, 1);
    let ran = false;
    fuse.handler = () => {
      ran = true;
    };
    fate.checkFuses();
    assert.equal(ran, true);
    assert.equal(fate.fuses.length, 0);
  });
});

describe('the Mad Hatter on Torsion', () => {
  test('a short fuse explodes in the Hatter’s hands', () => {
    const reactor = new MemoryReactorClock();
    const { lines, print } = recorder(reactor);
    firecracker(reactor, print, () => 0);
    reactor.pump([0, 0.5, 0.5, 2]);
    assert.deepEqual(lines, [
      [0.5, 'BOOM! Firecracker exploded in the unlucky hands of Mad Hatter'],
    ]);
    assert.equal(reactor.hasStopped, true);
  });

  test('a long fuse explodes in Ben’s hands, and the reactor stops at 3 s', () => {
    const reactor = new MemoryReactorClock();
    const { lines, print } = recorder(reactor);
    firecracker(reactor, print, () => 0.99);
    reactor.pump([0, 1, 1, 1]);
    assert.deepEqual(lines, [[2, 'BOOM! Firecracker exploded in the unlucky hands of Ben Eills']]);
    assert.equal(reactor.hasStopped, true);
  });
});

describe('the chain of fuses on Torsion', () => {
  test('each fuse waits for the one before, and the last stops the reactor', () => {
    const reactor = new MemoryReactorClock();
    const { lines, print } = recorder(reactor);
    const done = chainOfFuses(reactor, print);
    reactor.pump([0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0, 0.3]);
    successResultOf(done);
    assert.equal(lines.length, 9);
    assert.equal(lines.at(-1)?.[1], 'Boom! The Houses of Parliament explode!');
    // 0.6 + 0.5 + … + 0 + 0.3 seconds of fuses.
    assert.ok(Math.abs((lines.at(-1)?.[0] ?? 0) - 2.4) < 1e-9);
    assert.equal(reactor.hasStopped, true);
  });
});

describe('slow_multiply', () => {
  test('prints the result after 3 s and stops the reactor after 4 s', () => {
    const reactor = new MemoryReactorClock();
    const { lines, print } = recorder(reactor);
    slowMultiply(reactor, print);
    reactor.advance(2.9);
    assert.deepEqual(lines, [[0, 'Determining result of 5 * 7...']]);
    reactor.advance(0.1);
    assert.deepEqual(lines.at(-1), [3, '... result is 35!']);
    assert.equal(reactor.hasStopped, false);
    reactor.advance(1);
    assert.equal(reactor.hasStopped, true);
  });
});

describe('print_later and print_later_twice', () => {
  test('print_later prints its message after one second', () => {
    const clock = new Clock();
    const { lines, print } = recorder(clock);
    const d = printLater(clock, print);
    clock.advance(1);
    assert.deepEqual(lines, [[1, 'The future is now!']]);
    successResultOf(d);
  });

  test('print_later_twice prints the message twice, one callback after the other', () => {
    const clock = new Clock();
    const { lines, print } = recorder(clock);
    const d = printLaterTwice(clock, print);
    clock.advance(0.5);
    assert.deepEqual(lines, []);
    clock.advance(0.5);
    assert.deepEqual(lines, [
      [1, 'The future is now!'],
      [1, 'The future is now!'],
    ]);
    assert.equal(successResultOf(d), 'The future is now!');
  });
});

describe('the time server', () => {
  test('listens on port 1100 by default, sends the time and hangs up', () => {
    const reactor = new MemoryReactorClock();
    timeServer(reactor, { now: () => 1234.5 });
    const [port, factory] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 1100);
    const protocol = (factory as Factory).buildProtocol(new StringTransport().getPeer());
    const transport = new StringTransport();
    protocol?.makeConnection(transport);
    assert.equal(transport.value().toString(), 'Hello. The time is 1234.5\r\n');
    assert.equal(transport.disconnecting, true);
  });

  test('takes its port and interface from the options', () => {
    const reactor = new MemoryReactorClock();
    timeServer(reactor, { port: 9999, interface: '127.0.0.1' });
    const [port, , , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 9999);
    assert.equal(iface, '127.0.0.1');
  });
});

describe('the echo server', () => {
  test('writes back what it receives', () => {
    const reactor = new MemoryReactorClock();
    echoServer(reactor, 0);
    const echo = new Echo();
    const transport = new StringTransport();
    echo.makeConnection(transport);
    echo.dataReceived(Buffer.from('ping'));
    echo.dataReceived(Buffer.from('pong'));
    assert.equal(transport.value().toString(), 'pingpong');
    assert.equal(reactor.tcpServers.length, 1);
  });
});

describe('the chat server', () => {
  function join(factory: ChatFactory): [Chat, StringTransport] {
    const transport = new StringTransport();
    const chat = factory.buildProtocol(transport.getPeer());
    chat.makeConnection(transport);
    return [chat, transport];
  }

  test('asks for a name, welcomes the user and relays lines to the others only', () => {
    const reactor = new MemoryReactorClock();
    chatServer(reactor, 0);
    const factory = reactor.tcpServers[0]?.[1] as ChatFactory;
    const [alice, aliceOut] = join(factory);
    const [bob, bobOut] = join(factory);
    alice.dataReceived(Buffer.from('alice\r\n'));
    bob.dataReceived(Buffer.from('bob\r\nhello all\r\n'));
    assert.equal(
      aliceOut.value().toString(),
      "What's your name?\r\nWelcome, alice!\r\n<bob> hello all\r\n",
    );
    assert.equal(bobOut.value().toString(), "What's your name?\r\nWelcome, bob!\r\n");
  });

  test('refuses a name already taken, and frees it when its user leaves', () => {
    const factory = new ChatFactory();
    const [alice] = join(factory);
    alice.dataReceived(Buffer.from('alice\r\n'));
    const [other, otherOut] = join(factory);
    other.dataReceived(Buffer.from('alice\r\n'));
    assert.match(otherOut.value().toString(), /Name taken, please choose another\.\r\n$/);
    alice.connectionLost();
    other.dataReceived(Buffer.from('alice\r\n'));
    assert.match(otherOut.value().toString(), /Welcome, alice!\r\n$/);
    assert.deepEqual([...factory.users.keys()], ['alice']);
  });
});
