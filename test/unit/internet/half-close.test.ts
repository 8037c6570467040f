// One rule for "is this protocol half-closeable?": a readConnectionLost
// method. The in-memory pump applies it as the TCP transport does, so a
// protocol with only readConnectionLost half-closes in tests too.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { Protocol } from 'torsion/protocol';
import { connect, FakeTransport } from 'torsion/testing';
import { isHalfCloseable } from '../../../src/internet/_half-close.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

class Recorder extends Protocol<FakeTransport> {
  readonly received: Buffer[] = [];
  readonly lost: Failure[] = [];
  override dataReceived(data: Uint8Array): void {
    this.received.push(Buffer.from(data));
  }
  override connectionLost(reason: Failure): void {
    this.lost.push(reason);
  }
  get data(): Buffer {
    return Buffer.concat(this.received);
  }
}

/** Half-closeable with readConnectionLost alone: answers, then closes. */
class ReadOnlyHalfCloser extends Recorder {
  readLost = 0;
  readConnectionLost(): void {
    this.readLost++;
    this.transport.write(bytes(`got ${this.data.length} bytes`));
  }
}

/** Has writeConnectionLost only, which decides nothing. */
class WriteOnlyHalfCloser extends Recorder {
  writeLost = 0;
  writeConnectionLost(): void {
    this.writeLost++;
  }
}

/** Has both methods. */
class FullHalfCloser extends Recorder {
  readLost = 0;
  writeLost = 0;
  readConnectionLost(): void {
    this.readLost++;
  }
  writeConnectionLost(): void {
    this.writeLost++;
  }
}

describe('isHalfCloseable', () => {
  test('is true for a protocol with readConnectionLost, whether or not it has writeConnectionLost', () => {
    assert.equal(isHalfCloseable(new ReadOnlyHalfCloser()), true);
    assert.equal(isHalfCloseable(new FullHalfCloser()), true);
  });

  test('is false for a protocol without readConnectionLost, even with writeConnectionLost', () => {
    assert.equal(isHalfCloseable(new Recorder()), false);
    assert.equal(isHalfCloseable(new WriteOnlyHalfCloser()), false);
  });

  test('is false when readConnectionLost is a property that is not a function', () => {
    const protocol = Object.assign(new Recorder(), { readConnectionLost: true });
    assert.equal(isHalfCloseable(protocol), false);
  });
});

describe('IOPump half-close', () => {
  test('a peer with only readConnectionLost half-closes and can still answer, as over TCP', () => {
    const server = new ReadOnlyHalfCloser();
    const client = new FullHalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.write(bytes('request'));
    clientIO.loseWriteConnection();
    pump.flush();
    assert.equal(server.readLost, 1);
    assert.equal(client.writeLost, 1);
    // Not lost: the server's answer, written in readConnectionLost, arrives.
    assert.deepEqual(server.lost, []);
    assert.deepEqual(client.lost, []);
    assert.deepEqual(client.data, bytes('got 7 bytes'));
    assert.equal(serverIO.readDisconnected, true);
  });

  test('a half-closing side with only readConnectionLost is not asked for writeConnectionLost', () => {
    const server = new FullHalfCloser();
    const client = new ReadOnlyHalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.loseWriteConnection();
    pump.flush();
    assert.equal(server.readLost, 1);
    assert.deepEqual(server.lost, []);
  });

  test('a peer with only writeConnectionLost cannot half-close and loses the whole connection', () => {
    const server = new WriteOnlyHalfCloser();
    const client = new FullHalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.write(bytes('last words'));
    clientIO.loseWriteConnection();
    pump.flush();
    assert.deepEqual(server.data, bytes('last words'));
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
    assert.equal(server.writeLost, 0);
  });
});
