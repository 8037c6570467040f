// spawnProcess on a real NodeReactor with real children (`node -e`, `sh -c`
// where a shell is the point, `true`, `cat`): output by descriptor, the order
// of processExited, the pipes' closing and processEnded, exit codes and
// signals, stdin with backpressure, extra descriptors, env, path and argv0,
// signalProcess after the exit. (Twisted: test/test_process.py, the POSIX
// parts, and internet/test/test_process.py.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessProtocol,
  ProcessTerminated,
} from 'torsion/protocol';
import { NodeReactor } from 'torsion/reactor';
import { Signal, until, waitFor } from '../helpers/sockets.js';

const SUITE = { timeout: 60_000 };
const NODE = process.execPath;

/** Records every event, and the output of each descriptor. */
class Recorder extends ProcessProtocol {
  readonly events: string[] = [];
  readonly output = new Map<number, Buffer[]>();
  readonly exited = new Signal<Failure>();
  readonly ended = new Signal<Failure>();

  override connectionMade(): void {
    this.events.push('connectionMade');
  }
  override childDataReceived(childFD: number, data: Uint8Array): void {
    const chunks = this.output.get(childFD) ?? [];
    chunks.push(Buffer.from(data));
    this.output.set(childFD, chunks);
    super.childDataReceived(childFD, data);
  }
  override childConnectionLost(childFD: number): void {
    this.events.push(`lost ${childFD}`);
    super.childConnectionLost(childFD);
  }
  override processExited(reason: Failure): void {
    this.events.push('processExited');
    this.exited.fire(reason);
  }
  override processEnded(reason: Failure): void {
    this.events.push('processEnded');
    this.ended.fire(reason);
  }
  text(fd: number): string {
    return Buffer.concat(this.output.get(fd) ?? []).toString('utf8');
  }
}

function spawnNode(
  reactor: NodeReactor,
  protocol: ProcessProtocol,
  script: string,
  options: Parameters<NodeReactor['spawnProcess']>[3] = {},
) {
  return reactor.spawnProcess(protocol, NODE, ['node', '-e', script], options);
}

describe('spawnProcess with real children', SUITE, () => {
  test('output arrives by descriptor; processEnded comes last, after the exit and every pipe', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      'process.stdout.write("out"); process.stderr.write("err")',
    );
    assert.equal(
      p.events[0],
      'connectionMade',
      'connectionMade is called before spawnProcess returns',
    );
    assert.equal(p.transport, transport);
    assert.equal(typeof transport.pid, 'number');
    const reason = await waitFor(p.ended.promise, 'processEnded');
    assert.ok(reason.value instanceof ProcessDone);
    assert.equal((reason.value as ProcessDone).exitCode, 0);
    assert.equal(p.text(1), 'out');
    assert.equal(p.text(2), 'err');
    assert.equal(p.events.at(-1), 'processEnded');
    assert.deepEqual(p.events.filter((e) => e.startsWith('lost')).sort(), [
      'lost 0',
      'lost 1',
      'lost 2',
    ]);
    assert.equal(p.events.filter((e) => e === 'processExited').length, 1);
    assert.equal(transport.pid, undefined, 'pid is undefined after the exit');
  });

  test('a non-zero exit code is a ProcessTerminated carrying it', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    reactor.spawnProcess(p, 'sh', ['sh', '-c', 'exit 42']);
    const reason = await waitFor(p.ended.promise, 'processEnded');
    assert.ok(reason.value instanceof ProcessTerminated);
    const error = reason.value as ProcessTerminated;
    assert.equal(error.exitCode, 42);
    assert.equal(error.signal, undefined);
    assert.equal(error.status, 42 << 8);
    assert.match(error.message, /exit code 42/);
  });

  test('`true` ends with ProcessDone', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    reactor.spawnProcess(p, 'true', ['true']);
    assert.ok((await waitFor(p.ended.promise, 'processEnded')).check(ProcessDone));
  });

  test("signalProcess('TERM') ends it with a ProcessTerminated carrying the signal; then ProcessExitedAlready", async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      'process.stdout.write("ready"); setInterval(() => {}, 1000)',
    );
    await until(() => p.text(1) === 'ready', 'the child to be ready');
    transport.signalProcess('TERM');
    const reason = await waitFor(p.ended.promise, 'processEnded');
    const error = reason.value as ProcessTerminated;
    assert.ok(error instanceof ProcessTerminated);
    assert.equal(error.signal, constants.signals.SIGTERM);
    assert.equal(error.signalName, 'SIGTERM');
    assert.equal(error.exitCode, undefined);
    assert.throws(() => transport.signalProcess('KILL'), ProcessExitedAlready);
    assert.throws(() => transport.signalProcess(9), ProcessExitedAlready);
  });

  test('signals by number and by SIG name; an unknown one is a TypeError naming it', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      'process.stdout.write("ready"); setInterval(() => {}, 1000)',
    );
    await until(() => p.text(1) === 'ready', 'the child to be ready');
    assert.throws(() => transport.signalProcess('NOPE'), /unknown signal "NOPE"/);
    transport.signalProcess(constants.signals.SIGKILL);
    const error = (await waitFor(p.ended.promise, 'processEnded')).value as ProcessTerminated;
    assert.equal(error.signalName, 'SIGKILL');
  });

  test('stdin: what is written reaches the child; closeStdin ends it (inConnectionLost)', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = reactor.spawnProcess(p, 'cat', ['cat']);
    transport.write(Buffer.from('hello '));
    transport.writeSequence([Buffer.from('wor'), Buffer.from('ld')]);
    transport.closeStdin();
    await waitFor(p.ended.promise, 'processEnded');
    assert.equal(p.text(1), 'hello world');
    assert.ok(p.events.indexOf('lost 0') < p.events.indexOf('processEnded'));
    transport.write(Buffer.from('dropped')); // after the close: ignored, as Twisted
    assert.throws(() => transport.write('text' as unknown as Uint8Array), TypeError);
  });

  test('a streaming producer on stdin is paused while cat is not reading, and resumed after', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = reactor.spawnProcess(p, 'cat', ['cat']);
    transport.pauseProducing(); // stop reading cat's output: cat blocks, and so stdin fills
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let pauses = 0;
    let paused = false;
    const producer = {
      pauseProducing(): void {
        paused = true;
        pauses++;
      },
      resumeProducing(): void {
        paused = false;
        pump();
      },
      stopProducing(): void {},
    };
    const total = 8 * 1024 * 1024;
    function pump(): void {
      while (!paused && sent < total) {
        sent += chunk.length;
        transport.write(chunk);
      }
      if (sent >= total) {
        transport.unregisterProducer();
        transport.closeStdin();
      }
    }
    transport.registerProducer(producer, true);
    pump();
    assert.ok(paused, 'the producer was paused: the pipe is full');
    assert.ok(sent < total);
    await until(() => pauses > 0 && paused, 'the producer to be paused');
    transport.resumeProducing();
    await waitFor(p.ended.promise, 'processEnded', 30);
    assert.equal(Buffer.concat(p.output.get(1) ?? []).length, total);
    assert.ok(pauses >= 1);
  });

  test('a pull producer is asked for one chunk each time stdin has taken the last', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = reactor.spawnProcess(p, 'cat', ['cat']);
    let asked = 0;
    transport.registerProducer(
      {
        resumeProducing(): void {
          asked++;
          transport.write(Buffer.from(`${asked},`));
          if (asked === 5) {
            transport.unregisterProducer();
            transport.closeStdin();
          }
        },
        stopProducing(): void {},
      },
      false,
    );
    await waitFor(p.ended.promise, 'processEnded');
    assert.equal(p.text(1), '1,2,3,4,5,');
  });

  test('registerProducer without stdin tells the producer to stop at once', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = reactor.spawnProcess(p, 'true', ['true'], { childFDs: { 1: 'r' } });
    let stopped = 0;
    transport.registerProducer(
      { resumeProducing() {}, stopProducing: () => void stopped++ },
      false,
    );
    assert.equal(stopped, 1);
    await waitFor(p.ended.promise, 'processEnded');
  });

  test('loseConnection closes stdin, stderr and stdout; the child sees its input end', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      'process.stdin.resume(); process.stdin.on("end", () => process.exit(7))',
    );
    assert.equal(transport.disconnecting, false);
    transport.loseConnection();
    assert.equal(transport.disconnecting, true);
    const error = (await waitFor(p.ended.promise, 'processEnded')).value as ProcessTerminated;
    assert.equal(error.exitCode, 7);
    assert.deepEqual(p.events.filter((e) => e.startsWith('lost')).sort(), [
      'lost 0',
      'lost 1',
      'lost 2',
    ]);
  });

  test('extra descriptors: the parent reads fd 3 and writes fd 4 (writeToChild); childDataReceived gets 3', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      `const fs = require('node:fs');
       const line = fs.readFileSync(4, 'utf8');
       fs.writeSync(3, 'fd3:' + line);`,
      { childFDs: { 0: 'w', 1: 'r', 2: 'r', 3: 'r', 4: 'w' } },
    );
    transport.writeToChild(4, Buffer.from('via four'));
    transport.closeChildFD(4);
    assert.throws(
      () => transport.writeToChild(1, Buffer.from('x')),
      /descriptor 1 is not one the parent writes to/,
    );
    await waitFor(p.ended.promise, 'processEnded');
    assert.equal(p.text(3), 'fd3:via four');
    assert.ok(p.events.includes('lost 3') && p.events.includes('lost 4'));
  });

  test('closeStdout: no more output is read, outConnectionLost is called, the process still ends', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const transport = spawnNode(
      reactor,
      p,
      'process.stdin.resume(); process.stdin.on("end", () => {})',
    );
    transport.closeStdout();
    await until(() => p.events.includes('lost 1'), 'stdout to be lost');
    transport.closeStdin();
    assert.ok((await waitFor(p.ended.promise, 'processEnded')).check(ProcessDone));
  });

  test('env is empty by default, and given as is; path sets the working directory; args[0] is argv0', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    spawnNode(reactor, p, 'process.stdout.write(JSON.stringify(Object.keys(process.env)))');
    await waitFor(p.ended.promise, 'processEnded');
    assert.deepEqual(JSON.parse(p.text(1)), []);

    const q = new Recorder();
    reactor.spawnProcess(
      q,
      NODE,
      [
        'renamed',
        '-e',
        'process.stdout.write([process.env.GREETING, process.cwd(), process.argv0].join("|"))',
      ],
      { env: { GREETING: 'hi' }, path: '/tmp' },
    );
    await waitFor(q.ended.promise, 'processEnded');
    assert.equal(q.text(1), 'hi|/tmp|renamed');
  });

  test('no shell: arguments reach the child as they are', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    const tricky = ['$HOME', '*', 'a b', '"q"', '; echo hi'];
    reactor.spawnProcess(p, NODE, [
      'node',
      '-e',
      'process.stdout.write(JSON.stringify(process.argv.slice(1)))',
      ...tricky,
    ]);
    await waitFor(p.ended.promise, 'processEnded');
    assert.deepEqual(JSON.parse(p.text(1)), tricky);
  });

  test('a grandchild holding stdout open delays processEnded, not processExited', async () => {
    const reactor = new NodeReactor();
    const p = new Recorder();
    // The shell exits at once; its background child keeps stdout for a moment.
    reactor.spawnProcess(p, 'sh', ['sh', '-c', '(read x; echo late) <&0 & exit 0'], {});
    await waitFor(p.exited.promise, 'processExited');
    assert.ok(!p.events.includes('processEnded'), 'not ended while the grandchild holds stdout');
    const reason = await waitFor(p.ended.promise, 'processEnded');
    assert.ok(reason.check(ProcessDone));
    assert.match(p.text(1), /late/);
  });

  test('at reactor shutdown a running child is neither killed nor waited for', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/process-shutdown.js', import.meta.url));
    const program = spawn(NODE, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    program.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const [code] = (await waitFor(once(program, 'exit'), 'the program to exit after stop()')) as [
      number,
    ];
    assert.equal(code, 0);
    assert.match(output, /stopped/);
    const pid = Number(/child (\d+)/.exec(output)?.[1]);
    assert.ok(pid > 0);
    // The child lives on; the test stops it by its pid.
    process.kill(pid, 0);
    process.kill(pid, 'SIGKILL');
  });

  test('a protocol callback that throws is logged; the events go on', async () => {
    const reactor = new NodeReactor();
    class Throwing extends Recorder {
      override outReceived(): void {
        throw new Error('boom in outReceived');
      }
      override processExited(reason: Failure): void {
        super.processExited(reason);
        throw new Error('boom in processExited');
      }
    }
    const p = new Throwing();
    const logs = captureLogs();
    try {
      spawnNode(reactor, p, 'process.stdout.write("x")');
      await waitFor(p.ended.promise, 'processEnded');
    } finally {
      logs.stop();
    }
    const text = logs.events.map((e) => String(e.log_format ?? '')).join('\n');
    assert.match(text, /childDataReceived/);
    assert.match(text, /processExited/);
  });
});
