// StringTransport and StringTransportWithDisconnection (ported from Twisted's
// twisted/internet/test/test_testing.py StringTransportTests, plus writes,
// TCP options and disconnection).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import {
  ConnectionAborted,
  ConnectionDone,
  IPv4Address,
  Protocol,
  UNIXAddress,
} from 'torsion/protocol';
import type { IAddress, IPushProducer } from 'torsion/reactor';
import { StringTransport, StringTransportWithDisconnection } from 'torsion/testing';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

class NullProducer implements IPushProducer {
  pauseProducing(): void {}
  resumeProducing(): void {}
  stopProducing(): void {}
}

describe('StringTransport.write', () => {
  test('value() holds every byte written, in order', () => {
    const transport = new StringTransport();
    transport.write(bytes('hello, '));
    transport.write(new Uint8Array([119, 111, 114, 108, 100]));
    assert.deepEqual(transport.value(), bytes('hello, world'));
  });

  test('value() is an empty Buffer before anything is written', () => {
    const value = new StringTransport().value();
    assert.ok(Buffer.isBuffer(value));
    assert.equal(value.byteLength, 0);
  });

  test('keeps a copy, so the writer may reuse its buffer', () => {
    const transport = new StringTransport();
    const buffer = bytes('abc');
    transport.write(buffer);
    buffer.fill(0);
    assert.deepEqual(transport.value(), bytes('abc'));
  });

  test('throws a TypeError synchronously for a string and records nothing', () => {
    const transport = new StringTransport();
    assert.throws(
      () => transport.write('text' as unknown as Uint8Array),
      (error: unknown) =>
        error instanceof TypeError && /expects Uint8Array, got string/.test(error.message),
    );
    assert.equal(transport.value().byteLength, 0);
  });

  test('writeSequence records each chunk in turn', () => {
    const transport = new StringTransport();
    transport.writeSequence([bytes('a'), bytes('bc'), bytes('')]);
    transport.writeSequence(new Set([bytes('d')]));
    assert.deepEqual(transport.value(), bytes('abcd'));
  });

  test('writeSequence throws a TypeError for a string chunk before recording any', () => {
    const transport = new StringTransport();
    assert.throws(
      () => transport.writeSequence([bytes('a'), 'b' as unknown as Uint8Array]),
      TypeError,
    );
    assert.equal(transport.value().byteLength, 0);
  });

  test('clear() forgets what was written so far', () => {
    const transport = new StringTransport();
    transport.write(bytes('old'));
    transport.clear();
    transport.write(bytes('new'));
    assert.deepEqual(transport.value(), bytes('new'));
  });
});

describe('StringTransport.registerProducer', () => {
  test('records the producer and whether it streams', () => {
    const transport = new StringTransport();
    const producer = new NullProducer();
    transport.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    assert.equal(transport.streaming, true);
  });

  test('throws if a producer is already registered, keeping the first', () => {
    const transport = new StringTransport();
    const producer = new NullProducer();
    transport.registerProducer(producer, true);
    assert.throws(() => transport.registerProducer(new NullProducer(), false), Error);
    assert.equal(transport.producer, producer);
    assert.equal(transport.streaming, true);
  });

  test('unregisterProducer forgets the producer, so another can be registered', () => {
    const transport = new StringTransport();
    transport.registerProducer(new NullProducer(), false);
    transport.unregisterProducer();
    assert.equal(transport.producer, undefined);
    assert.equal(transport.streaming, undefined);
    const newProducer = new NullProducer();
    transport.registerProducer(newProducer, true);
    assert.equal(transport.producer, newProducer);
    assert.equal(transport.streaming, true);
  });

  test('unregisterProducer throws when no producer is registered', () => {
    assert.throws(() => new StringTransport().unregisterProducer(), Error);
  });
});

describe('StringTransport as a push producer', () => {
  test("starts in the 'producing' state", () => {
    assert.equal(new StringTransport().producerState, 'producing');
  });

  test("pauseProducing moves it to 'paused'", () => {
    const transport = new StringTransport();
    transport.pauseProducing();
    assert.equal(transport.producerState, 'paused');
  });

  test("resumeProducing moves it back to 'producing'", () => {
    const transport = new StringTransport();
    transport.pauseProducing();
    transport.resumeProducing();
    assert.equal(transport.producerState, 'producing');
  });

  test("stopProducing moves it to 'stopped'", () => {
    const transport = new StringTransport();
    transport.stopProducing();
    assert.equal(transport.producerState, 'stopped');
  });

  test('a stopped transport cannot be paused', () => {
    const transport = new StringTransport();
    transport.stopProducing();
    assert.throws(() => transport.pauseProducing(), /stopped producer/);
  });

  test('a stopped transport cannot be resumed', () => {
    const transport = new StringTransport();
    transport.stopProducing();
    assert.throws(() => transport.resumeProducing(), /stopped producer/);
  });

  test('a disconnecting transport cannot be paused', () => {
    const transport = new StringTransport();
    transport.loseConnection();
    assert.throws(() => transport.pauseProducing(), /after loseConnection/);
  });

  test('a disconnecting transport cannot be resumed', () => {
    const transport = new StringTransport();
    transport.loseConnection();
    assert.throws(() => transport.resumeProducing(), /after loseConnection/);
  });

  test('a lenient transport can be paused and resumed after loseConnection', () => {
    const transport = new StringTransport({ lenient: true });
    transport.loseConnection();
    transport.pauseProducing();
    assert.equal(transport.producerState, 'paused');
    transport.resumeProducing();
    assert.equal(transport.producerState, 'producing');
  });

  test('a lenient transport still cannot be resumed once stopped', () => {
    const transport = new StringTransport({ lenient: true });
    transport.stopProducing();
    assert.throws(() => transport.resumeProducing(), /stopped producer/);
  });
});

describe('StringTransport.loseConnection', () => {
  test('sets disconnecting, and nothing else', () => {
    const transport = new StringTransport();
    assert.equal(transport.disconnecting, false);
    transport.loseConnection();
    assert.equal(transport.disconnecting, true);
    assert.equal(transport.disconnected, false);
    assert.equal(transport.connected, true);
  });

  test('abortConnection sets disconnected and disconnecting', () => {
    const transport = new StringTransport();
    transport.abortConnection();
    assert.equal(transport.disconnected, true);
    assert.equal(transport.disconnecting, true);
  });

  test('loseWriteConnection sets writeDisconnecting only', () => {
    const transport = new StringTransport();
    transport.loseWriteConnection();
    assert.equal(transport.writeDisconnecting, true);
    assert.equal(transport.disconnecting, false);
  });

  test('writes after loseConnection are still recorded, for the test to see', () => {
    const transport = new StringTransport();
    transport.loseConnection();
    transport.write(bytes('late'));
    assert.deepEqual(transport.value(), bytes('late'));
  });
});

describe('StringTransport addresses', () => {
  test('getHost returns the host address given to the constructor', () => {
    const address: IAddress = new UNIXAddress('/tmp/host');
    assert.equal(new StringTransport({ hostAddress: address }).getHost(), address);
  });

  test('getPeer returns the peer address given to the constructor', () => {
    const address: IAddress = new UNIXAddress('/tmp/peer');
    assert.equal(new StringTransport({ peerAddress: address }).getPeer(), address);
  });

  test("getHost defaults to IPv4Address('TCP', '10.0.0.1', 12345)", () => {
    const address = new StringTransport().getHost();
    assert.ok(address instanceof IPv4Address);
    assert.ok(address.equals(new IPv4Address('TCP', '10.0.0.1', 12345)));
  });

  test("getPeer defaults to IPv4Address('TCP', '192.168.1.1', 54321)", () => {
    const address = new StringTransport().getPeer();
    assert.ok(address instanceof IPv4Address);
    assert.ok(address.equals(new IPv4Address('TCP', '192.168.1.1', 54321)));
  });

  test('hostAddr and peerAddr can be set after construction', () => {
    const transport = new StringTransport();
    const host = new IPv4Address('TCP', '127.0.0.1', 80);
    transport.hostAddr = host;
    transport.peerAddr = host;
    assert.equal(transport.getHost(), host);
    assert.equal(transport.getPeer(), host);
  });
});

describe('StringTransport TCP options', () => {
  test('records noDelay and keepAlive, both off at first', () => {
    const transport = new StringTransport();
    assert.equal(transport.getTcpNoDelay(), false);
    assert.equal(transport.getTcpKeepAlive(), false);
    transport.setTcpNoDelay(true);
    transport.setTcpKeepAlive(true);
    assert.equal(transport.getTcpNoDelay(), true);
    assert.equal(transport.getTcpKeepAlive(), true);
  });
});

class LossRecorder extends Protocol {
  readonly reasons: Failure[] = [];
  override connectionLost(reason: Failure): void {
    this.reasons.push(reason);
  }
}

describe('StringTransportWithDisconnection', () => {
  test('loseConnection tells the protocol, with ConnectionDone, exactly once', () => {
    const protocol = new LossRecorder();
    const transport = new StringTransportWithDisconnection();
    transport.protocol = protocol;
    protocol.makeConnection(transport);
    transport.loseConnection();
    transport.loseConnection();
    assert.equal(protocol.reasons.length, 1);
    assert.ok(protocol.reasons[0]?.check(ConnectionDone));
    assert.equal(transport.connected, false);
    assert.equal(transport.disconnecting, true);
  });

  test('abortConnection tells the protocol with ConnectionAborted', () => {
    const protocol = new LossRecorder();
    const transport = new StringTransportWithDisconnection({ protocol });
    transport.abortConnection();
    assert.equal(protocol.reasons.length, 1);
    assert.ok(protocol.reasons[0]?.check(ConnectionAborted));
    assert.equal(transport.disconnected, true);
  });

  test('a loseConnection from inside connectionLost does not report twice', () => {
    const reasons: Failure[] = [];
    const transport = new StringTransportWithDisconnection();
    class Reentrant extends Protocol {
      override connectionLost(reason: Failure): void {
        reasons.push(reason);
        transport.loseConnection();
      }
    }
    transport.protocol = new Reentrant();
    transport.loseConnection();
    assert.equal(reasons.length, 1);
  });

  test('throws when no protocol is set', () => {
    assert.throws(() => new StringTransportWithDisconnection().loseConnection(), /no protocol/);
  });

  test('still records writes, like StringTransport', () => {
    const transport = new StringTransportWithDisconnection({ protocol: new LossRecorder() });
    transport.write(bytes('x'));
    assert.deepEqual(transport.value(), bytes('x'));
    assert.ok(transport instanceof StringTransport);
  });
});
