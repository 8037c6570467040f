// FakeProcessTransport and MemoryReactor.spawnProcess: a ProcessProtocol
// tested without a process, with the events in a real process's order.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessProtocol,
  ProcessTerminated,
} from 'torsion/protocol';
import { FakeProcessTransport, MemoryReactor } from 'torsion/testing';

class Recorder extends ProcessProtocol {
  readonly events: string[] = [];
  override connectionMade(): void {
    this.events.push('made');
  }
  override outReceived(data: Uint8Array): void {
    this.events.push(`out:${Buffer.from(data).toString()}`);
  }
  override errReceived(data: Uint8Array): void {
    this.events.push(`err:${Buffer.from(data).toString()}`);
  }
  override childConnectionLost(childFD: number): void {
    this.events.push(`lost ${childFD}`);
  }
  override processExited(reason: Failure): void {
    this.events.push(`exited ${(reason.value as Error).constructor.name}`);
  }
  override processEnded(reason: Failure): void {
    this.events.push(`ended ${(reason.value as Error).constructor.name}`);
  }
}

describe('MemoryReactor.spawnProcess', () => {
  test('records the call and connects the protocol to a fake process', () => {
    const reactor = new MemoryReactor();
    const p = new Recorder();
    const transport = reactor.spawnProcess(p, '/bin/wc', ['wc', '-l'], { env: { A: 'b' } });
    assert.deepEqual(p.events, ['made']);
    assert.equal(p.transport, transport);
    const [record] = reactor.processes;
    assert.ok(record !== undefined);
    assert.equal(record[0], p);
    assert.equal(record[1], '/bin/wc');
    assert.deepEqual(record[2], ['wc', '-l']);
    assert.deepEqual(record[3], { env: { A: 'b' } });
    assert.equal(record[4], transport);
    assert.equal(transport.pid, 4242);
    assert.equal(reactor.spawnProcess(new Recorder(), 'true', ['true']).pid, 4243);
  });

  test('usePTY is refused, as by the real reactor', () => {
    assert.throws(
      () => new MemoryReactor().spawnProcess(new Recorder(), 'sh', ['sh'], { usePTY: true }),
      /usePTY is not supported/,
    );
  });
});

describe('FakeProcessTransport', () => {
  function start(): { p: Recorder; t: FakeProcessTransport } {
    const p = new Recorder();
    const t = new FakeProcessTransport();
    t.connect(p);
    return { p, t };
  }

  test('output by descriptor, then exit: pipes lost, processExited, processEnded', () => {
    const { p, t } = start();
    t.output(1, 'hello');
    t.output(2, Buffer.from('oops'));
    t.exit(0);
    assert.deepEqual(p.events, [
      'made',
      'out:hello',
      'err:oops',
      'lost 0',
      'lost 1',
      'lost 2',
      'exited ProcessDone',
      'ended ProcessDone',
    ]);
    assert.equal(t.pid, undefined);
    assert.throws(() => t.signalProcess('TERM'), ProcessExitedAlready);
    assert.throws(() => t.exit(0), /exited already/);
  });

  test('a grandchild holding stdout open: processEnded waits for it', () => {
    const { p, t } = start();
    t.killedBy('SIGTERM', { keepPipesOpen: true });
    assert.deepEqual(p.events, ['made', 'lost 0', 'exited ProcessTerminated']);
    t.closeFromChild(2);
    t.closeFromChild(1);
    assert.deepEqual(p.events.slice(-3), ['lost 2', 'lost 1', 'ended ProcessTerminated']);
  });

  test('records what the protocol writes, closes and signals', () => {
    const { p, t } = start();
    t.write(Buffer.from('ab'));
    t.writeSequence([Buffer.from('c'), Buffer.from('d')]);
    t.signalProcess('HUP');
    assert.equal(t.value().toString(), 'abcd');
    assert.deepEqual(t.signals, ['HUP']);
    t.loseConnection();
    assert.equal(t.disconnecting, true);
    assert.deepEqual(t.closedChildFDs, [0, 2, 1]);
    assert.deepEqual(p.events.slice(1), ['lost 0', 'lost 2', 'lost 1']);
    t.write(Buffer.from('late'));
    assert.equal(t.value().toString(), 'abcd', 'dropped after the close, as a real process');
    assert.throws(() => t.output(1, 'x'), /not open/);
    t.exit(3);
    assert.deepEqual(p.events.slice(-2), ['exited ProcessTerminated', 'ended ProcessTerminated']);
  });

  test('extra descriptors: writeToChild on a writer only; output on a reader only', () => {
    const p = new Recorder();
    const t = new FakeProcessTransport({ childFDs: { 1: 'r', 3: 'w', 4: 'r' } });
    t.connect(p);
    t.writeToChild(3, Buffer.from('x'));
    assert.equal(t.value(3).toString(), 'x');
    assert.throws(
      () => t.writeToChild(4, Buffer.from('x')),
      /descriptor 4 is not one the parent writes to/,
    );
    t.write(Buffer.from('no stdin'));
    assert.equal(t.value(0).length, 0);
    assert.deepEqual(t.openChildFDs(), [1, 3, 4]);
    let stopped = false;
    t.registerProducer({ resumeProducing() {}, stopProducing: () => void (stopped = true) }, false);
    assert.ok(stopped, 'no stdin: the producer is stopped at once');
  });

  test('the stdin producer is stopped when stdin closes; pause and resume are recorded', () => {
    const { t } = start();
    let stops = 0;
    t.registerProducer(
      { pauseProducing() {}, resumeProducing() {}, stopProducing: () => void stops++ },
      true,
    );
    assert.equal(t.streaming, true);
    t.pauseProducing();
    assert.equal(t.producerState, 'paused');
    t.resumeProducing();
    t.closeStdin();
    assert.equal(stops, 1);
    assert.equal(t.producer, null);
  });

  test('exit codes and signals reach the protocol as ProcessTerminated', () => {
    const p = new (class extends ProcessProtocol {
      reason: Failure | undefined;
      override processEnded(reason: Failure): void {
        this.reason = reason;
      }
    })();
    const t = new FakeProcessTransport();
    t.connect(p);
    t.killedBy('SIGKILL');
    const error = p.reason?.value as ProcessTerminated;
    assert.ok(error instanceof ProcessTerminated);
    assert.equal(error.signalName, 'SIGKILL');
    assert.ok(!(error instanceof ProcessDone));
  });
});
