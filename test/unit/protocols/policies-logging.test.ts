// TrafficLoggingFactory and SpewingFactory (ported from Twisted's
// twisted/test/test_policies.py, LoggingFactoryTests; SpewingFactory has no
// Twisted tests).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { captureLogs, formatEvent } from 'torsion/logger';
import { IPv4Address, Protocol, ServerFactory } from 'torsion/protocol';
import {
  SpewingFactory,
  type TrafficLogFile,
  TrafficLoggingFactory,
  TrafficLoggingProtocol,
} from 'torsion/protocols/policies';
import {
  AccumulatingProtocol,
  CHUNK_SIZES,
  connectedServerAndClient,
  deliverInChunks,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '1.2.3.4', 5678);

class EchoProtocol extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Echoes, with writeSequence for data that mentions "vector!". */
class WriteSequenceEchoProtocol extends EchoProtocol {
  override dataReceived(data: Uint8Array): void {
    if (Buffer.from(data).includes('vector!')) this.transport.writeSequence([data]);
    else super.dataReceived(data);
  }
}

class Server extends ServerFactory {
  override protocol = EchoProtocol;
  override noisy = false;
}

/** A log file in memory. */
class MemoryFile implements TrafficLogFile {
  text = '';
  flushes = 0;
  closed = false;
  constructor(readonly name: string) {}
  write(text: string): void {
    this.text += text;
  }
  flush(): void {
    this.flushes++;
  }
  close(): void {
    this.closed = true;
  }
}

/** A TrafficLoggingFactory that opens MemoryFiles, kept in `files`. */
function memoryLogging(
  wrapped: ServerFactory,
  prefix = 'test',
  lengthLimit?: number,
): { factory: TrafficLoggingFactory; files: MemoryFile[] } {
  const files: MemoryFile[] = [];
  const factory = new TrafficLoggingFactory(wrapped, prefix, {
    lengthLimit,
    openFile: (name) => {
      const file = new MemoryFile(name);
      files.push(file);
      return file;
    },
  });
  factory.noisy = false;
  return { factory, files };
}

describe('TrafficLoggingFactory', () => {
  test('logs the connection, what is received, written and written in sequence, and the loss', () => {
    const wrappedFactory = new Server();
    wrappedFactory.protocol = WriteSequenceEchoProtocol;
    const { factory, files } = memoryLogging(wrappedFactory);
    const p = factory.buildProtocol(addr);
    assert.ok(p !== null);
    const t = new StringTransportWithDisconnection({ protocol: p });
    p.makeConnection(t);
    const file = files[0];
    assert.ok(file !== undefined);

    assert.ok(file.text.includes('*'));
    assert.equal(t.value().length, 0);

    p.dataReceived(Buffer.from('here are some bytes'));
    assert.ok(file.text.includes("C 1: b'here are some bytes'"));
    assert.ok(file.text.includes("S 1: b'here are some bytes'"));
    assert.equal(t.value().toString(), 'here are some bytes');

    t.clear();
    p.dataReceived(Buffer.from('prepare for vector! to the extreme'));
    assert.ok(file.text.includes("SV 1: [b'prepare for vector! to the extreme']"));
    assert.equal(t.value().toString(), 'prepare for vector! to the extreme');

    p.loseConnection();
    assert.ok(file.text.includes('S 1: *'));
    assert.ok(file.text.includes('ConnectionDone'));
    assert.equal(file.closed, true);
    assert.ok(file.flushes > 0);
  });

  test('writes the lines in order, one per event', () => {
    const { factory, files } = memoryLogging(new Server());
    const p = factory.buildProtocol(addr);
    assert.ok(p !== null);
    p.makeConnection(new StringTransportWithDisconnection({ protocol: p }));
    p.dataReceived(Buffer.from('hi'));
    p.writeSequence([Buffer.from('a'), Buffer.from('b')]);
    p.loseConnection();
    const lines = files[0]?.text.split('\n') ?? [];
    assert.deepEqual(lines.slice(0, 5), [
      '*',
      "C 1: b'hi'",
      "S 1: b'hi'",
      "SV 1: [b'a', b'b']",
      'S 1: *',
    ]);
    assert.match(lines[5] ?? '', /^C 1: .*ConnectionDone/);
    assert.equal(lines[6], '');
  });

  test('shows bytes as Python does, escapes and quotes included', () => {
    const { factory, files } = memoryLogging(new Server());
    const p = factory.buildProtocol(addr);
    assert.ok(p !== null);
    p.makeConnection(new StringTransportWithDisconnection({ protocol: p }));
    p.dataReceived(Buffer.from([0x00, 0x09, 0x0a, 0x0d, 0x5c, 0x27, 0x7f, 0xff, 0x41]));
    p.dataReceived(Buffer.from(`it's`));
    p.dataReceived(Buffer.from(`'"`));
    const text = files[0]?.text ?? '';
    assert.ok(text.includes(String.raw`C 1: b"\x00\t\n\r\\'\x7f\xffA"`), text);
    assert.ok(text.includes(`C 1: b"it's"`), text);
    assert.ok(text.includes(String.raw`C 1: b'\'"'`), text);
  });

  test('elides chunks longer than lengthLimit', () => {
    const { factory, files } = memoryLogging(new Server(), 'test', 20);
    const p = factory.buildProtocol(addr);
    assert.ok(p !== null);
    p.makeConnection(new StringTransportWithDisconnection({ protocol: p }));
    p.dataReceived(Buffer.from('0123456789abcdefghijklmnop'));
    p.dataReceived(Buffer.from('short'));
    const text = files[0]?.text ?? '';
    assert.ok(text.includes("C 1: b'01234567'<... elided>"), text);
    assert.ok(text.includes("C 1: b'short'"), text);
  });

  for (const size of CHUNK_SIZES) {
    test(`logs every chunk received and passes it on when fed ${size}-byte chunks`, () => {
      const { factory, files } = memoryLogging(new Server());
      const p = factory.buildProtocol(addr);
      assert.ok(p !== null);
      const t = new StringTransportWithDisconnection({ protocol: p });
      p.makeConnection(t);
      const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz');
      const calls = deliverInChunks(p, payload, size);
      assert.deepEqual(t.value(), payload);
      const received = (files[0]?.text ?? '').split('\n').filter((l) => l.startsWith('C 1: '));
      assert.equal(received.length, calls);
      assert.equal(received.map((l) => l.slice("C 1: b'".length, -1)).join(''), payload.toString());
    });
  }

  test('numbers connections from 1, and from 1 again after resetCounter', () => {
    const { factory, files } = memoryLogging(new Server());
    assert.equal(factory.counter, 0);
    factory.buildProtocol(addr);
    assert.equal(factory.counter, 1);
    factory.buildProtocol(new IPv4Address('TCP', '1.2.3.4', 5679));
    assert.equal(factory.counter, 2);
    factory.resetCounter();
    assert.equal(factory.counter, 0);
    factory.buildProtocol(addr);
    assert.deepEqual(
      files.map((f) => f.name),
      ['test-1', 'test-2', 'test-1'],
    );
  });

  test('opens a log file named after the prefix for each protocol it builds', () => {
    const opened: string[] = [];
    const files: MemoryFile[] = [];
    const factory = new TrafficLoggingFactory(new Server(), {
      logfilePrefix: 'test',
      openFile: (name) => {
        opened.push(name);
        const file = new MemoryFile(name);
        files.push(file);
        return file;
      },
    });
    const first = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 12345));
    const second = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 12346));
    assert.deepEqual(opened, ['test-1', 'test-2']);
    assert.ok(first instanceof TrafficLoggingProtocol);
    assert.deepEqual([first?.logfile, second?.logfile], files);
    assert.deepEqual([first?.number, second?.number], [1, 2]);
  });

  test('open can be overridden in a subclass', () => {
    const files: MemoryFile[] = [];
    class ToMemory extends TrafficLoggingFactory {
      override open(name: string): TrafficLogFile {
        const file = new MemoryFile(name);
        files.push(file);
        return file;
      }
    }
    new ToMemory(new Server(), 'sub').buildProtocol(addr);
    assert.deepEqual(
      files.map((f) => f.name),
      ['sub-1'],
    );
  });

  test('opens no file when the wrapped factory refuses the connection', () => {
    const { factory, files } = memoryLogging(new Server());
    const refusing = new TrafficLoggingFactory(
      { buildProtocol: () => null, doStart: () => {}, doStop: () => {} },
      'x',
      { openFile: (name) => new MemoryFile(name) },
    );
    assert.equal(refusing.buildProtocol(addr), null);
    assert.equal(refusing.counter, 0);
    assert.equal(files.length, 0);
    assert.equal(factory.counter, 0);
  });

  test('writes real files by default, and closes them when the connection is lost', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-traffic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const factory = new TrafficLoggingFactory(new Server(), join(dir, 'traffic'));
    const [client, , pump] = connectedServerAndClient(factory, AccumulatingProtocol);
    client.transport.write(Buffer.from('ping'));
    pump.flush();
    client.transport.loseConnection();
    pump.flush();
    const text = readFileSync(join(dir, 'traffic-1'), 'utf8');
    assert.match(text, /^\*\nC 1: b'ping'\nS 1: b'ping'\nC 1: .*ConnectionDone.*\n$/);
  });
});

describe('SpewingFactory', () => {
  test('logs what is received and sent, and still passes it on', () => {
    const factory = new SpewingFactory(new Server());
    factory.noisy = false;
    const p = factory.buildProtocol(addr);
    assert.ok(p !== null);
    const t = new StringTransportWithDisconnection({ protocol: p });
    p.makeConnection(t);
    const logs = captureLogs();
    try {
      p.dataReceived(Buffer.from('hello'));
    } finally {
      logs.stop();
    }
    assert.equal(t.value().toString(), 'hello');
    assert.deepEqual(
      logs.events.map((e) => formatEvent(e)),
      ["Received: b'hello'", "Sending: b'hello'"],
    );
  });
});
