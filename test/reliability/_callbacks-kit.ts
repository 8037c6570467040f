// What test/reliability/callbacks.test.ts runs each case with: the three
// stream transports (TCP, UNIX, TLS) on loopback, a server that echoes on
// every connection but the one a case makes misbehave, a watch on uncaught
// exceptions, and the checks every case ends with (the process lives, the
// error logged once with its stack, only the owning connection closed).
// Test-only; not exported.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Failure } from 'torsion/defer';
import {
  captureLogs,
  formatEventAsClassicLogText,
  type LogCapture,
  type LogEvent,
} from 'torsion/logger';
import type {
  IAddress,
  IConnector,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
} from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';

/** What a case throws: recognisable in the logs, whoever logs it. */
export class Boom extends Error {
  override name = 'Boom';
}

/** How a case opens and reaches a port on one transport. */
export interface Kit {
  readonly name: 'TCP' | 'UNIX' | 'TLS';
  listen(h: SocketHarness, t: TestContext, factory: IProtocolFactory): IListeningPort;
  connect(h: SocketHarness, port: IListeningPort, factory: IProtocolFactory): IConnector;
  /** Connects where nothing listens: the attempt fails. */
  connectNowhere(h: SocketHarness, t: TestContext, factory: IProtocolFactory): IConnector;
}

function portOf(listening: IListeningPort): number {
  return (listening.getHost() as IAddress & { port: number }).port;
}

function tmpDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-callbacks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const KITS: readonly Kit[] = [
  {
    name: 'TCP',
    listen: (h, _t, factory) => h.listenTCP(0, factory, { interface: LOCAL }),
    connect: (h, port, factory) => h.connectTCP(LOCAL, portOf(port), factory),
    connectNowhere: (h, _t, factory) => {
      // Bound and released at once: connecting there is refused.
      const listening = h.reactor.listenTCP(0, new CollectingFactory(() => new Recorder()), {
        interface: LOCAL,
      });
      const port = portOf(listening);
      void listening.stopListening();
      return h.connectTCP(LOCAL, port, factory);
    },
  },
  {
    name: 'UNIX',
    listen: (h, t, factory) => h.listenUNIX(join(tmpDir(t), 's'), factory),
    connect: (h, port, factory) =>
      h.connectUNIX((port.getHost() as IAddress & { name: string }).name, factory),
    connectNowhere: (h, t, factory) => h.connectUNIX(join(tmpDir(t), 'nobody'), factory),
  },
  {
    name: 'TLS',
    listen: (h, _t, factory) =>
      h.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: LOCAL }),
    connect: (h, port, factory) => h.connectSSL('localhost', portOf(port), factory, { ca: CERT }),
    // A TCP server that is not TLS: the handshake fails.
    connectNowhere: (h, _t, factory) => {
      const listening = h.listenTCP(0, new CollectingFactory(() => new EchoRecorder()), {
        interface: LOCAL,
      });
      return h.connectSSL('localhost', portOf(listening), factory, { ca: CERT });
    },
  },
];

/** Uncaught exceptions and unhandled rejections seen while a test runs. */
export function watchUncaught(t: TestContext): unknown[] {
  const seen: unknown[] = [];
  const record = (error: unknown): void => {
    seen.push(error);
  };
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  t.after(() => {
    process.removeListener('uncaughtException', record);
    process.removeListener('unhandledRejection', record);
  });
  return seen;
}

/** The events of `logs` carrying a failure of `error`. */
export function failuresOf(logs: LogCapture, error: Error): LogEvent[] {
  return logs.events.filter((event) => {
    const failure = event.log_failure;
    return failure instanceof Failure && failure.value === error;
  });
}

/**
 * What every case checks at its end: nothing escaped to the process, and
 * `error` was logged exactly once, with the stack of where it was thrown.
 */
export function assertLoggedOnce(logs: LogCapture, uncaught: unknown[], error: Error): LogEvent {
  assert.deepEqual(uncaught, [], 'an exception escaped to the process');
  const events = failuresOf(logs, error);
  assert.equal(events.length, 1, `logged ${events.length} times: ${describe(logs)}`);
  const event = events[0]!;
  // What a log file shows: the error and its stack.
  const text = formatEventAsClassicLogText(event);
  assert.ok(text.includes(`${error.name}: ${error.message}`), `the error in the log: ${text}`);
  const frame = error.stack?.split('\n')[1]?.trim() ?? '';
  assert.match(frame, /callbacks\.test\.js/);
  assert.ok(text.includes(frame), `the stack in the log: ${text}`);
  return event;
}

function describe(logs: LogCapture): string {
  return logs.events
    .map((e) => `${e.log_level}: ${String(e.log_format)} ${String(e.log_failure ?? '')}`)
    .join(' | ');
}

/**
 * A port on `kit` that echoes on every connection, except that the next
 * connection after {@link Scene.misbehave} gets the protocol given, and a
 * bystander connection already echoing on it.
 */
export class Scene {
  readonly h: SocketHarness;
  readonly logs: LogCapture;
  readonly uncaught: unknown[];
  readonly server: CollectingFactory<IProtocol>;
  readonly port: IListeningPort;
  readonly kit: Kit;
  readonly t: TestContext;
  bystander!: Recorder;
  /** The protocols built by {@link Scene.misbehave}'s makers. */
  readonly victims: IProtocol[] = [];
  #next: (() => IProtocol) | undefined;

  private constructor(t: TestContext, kit: Kit) {
    this.t = t;
    this.kit = kit;
    this.h = harness(t);
    this.uncaught = watchUncaught(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    this.logs = logs;
    this.server = new CollectingFactory<IProtocol>(() => {
      const make = this.#next;
      this.#next = undefined;
      if (make === undefined) return new EchoRecorder();
      const victim = make();
      this.victims.push(victim);
      return victim;
    });
    this.port = kit.listen(this.h, t, this.server);
  }

  /** A scene with its bystander connected and echoing. */
  static async open(t: TestContext, kit: Kit): Promise<Scene> {
    const scene = new Scene(t, kit);
    scene.bystander = await scene.connect(() => new Recorder());
    await scene.bystanderEchoes();
    return scene;
  }

  /** The next connection accepted gets the protocol `make` builds. */
  misbehave(make: () => IProtocol): void {
    this.#next = make;
  }

  /** Starts connecting a client factory building with `make`. */
  dial<P extends Recorder>(make: () => P): RecordingClientFactory<P> {
    const factory = new RecordingClientFactory(make);
    this.kit.connect(this.h, this.port, factory);
    return factory;
  }

  /** Connects a client protocol; resolves once its connectionMade has run. */
  async connect<P extends Recorder>(make: () => P): Promise<P> {
    const factory = this.dial(make);
    const protocol = await waitFor(factory.nth(0), `a ${this.kit.name} client protocol`);
    await waitFor(protocol.made, 'the client connectionMade');
    return protocol;
  }

  /** The bystander is still open and echoes one more byte. */
  async bystanderEchoes(): Promise<void> {
    const bystander = this.bystander;
    assert.equal(bystander.lostCalls, 0, 'the bystander connection was closed');
    const want = bystander.received + 1;
    bystander.transport.write(Buffer.from('.'));
    await waitFor(bystander.bytes(want), 'the bystander echo');
  }

  /** The checks every case ends with; returns the one log event. */
  async done(error: Error): Promise<LogEvent> {
    await this.bystanderEchoes();
    for (const victim of this.victims) {
      if (victim instanceof Recorder) assert.equal(victim.lostCalls, 1, 'connectionLost once');
    }
    return assertLoggedOnce(this.logs, this.uncaught, error);
  }
}
