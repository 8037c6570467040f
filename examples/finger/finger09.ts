// Finger, stage 9: the factory answers by running the system's `finger`
// command for the user (getProcessOutput, from torsion/utils), and its
// Deferred fires with what the command printed; the protocol is stage 8's,
// unchanged. A command that fails (it writes to standard error, or cannot
// be started) becomes "Internal error in server". Since few systems still
// have `finger`, the default command is a stand-in, fake-finger.js.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger09.js [endpoint] [command...]
//         (default tcp:1079, and the stand-in; e.g. `tcp:1079 /usr/bin/finger` for the real one)
// Try it: nc -C 127.0.0.1 1079, then type moshez and Enter (-C: lines end in CRLF)

import { fileURLToPath } from 'node:url';
import type { Deferred } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort, IReactorProcess } from 'torsion/reactor';
import { getProcessOutput } from 'torsion/utils';

/** Reads a user name, writes what the factory says about the user, and hangs up. */
export class FingerProtocol extends LineReceiver<FingerFactory> {
  override lineReceived(user: Buffer): void {
    const d = this.factory.getUser(user.toString('utf8'));

    const onError = (): string => 'Internal error in server';
    d.addErrback(onError);

    const writeResponse = (message: string): void => {
      this.sendLine(message);
      this.transport.loseConnection();
    };
    d.addCallback(writeResponse);
  }
}

/** Makes a FingerProtocol for each connection, and answers with the output of `finger <user>`. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  /**
   * @param reactor - Runs the command.
   * @param command - The command and its first arguments; the user name is added last.
   */
  constructor(
    readonly reactor: IReactorProcess,
    readonly command: readonly [string, ...string[]],
  ) {
    super();
  }

  getUser(user: string): Deferred<string> {
    const [executable, ...args] = this.command;
    return getProcessOutput(executable, [...args, user], { reactor: this.reactor }).addCallback(
      (output) => output.toString('utf8').trimEnd(),
    );
  }
}

/** The stand-in for `finger`: this Node running fake-finger.js. */
export const FAKE_FINGER: readonly [string, ...string[]] = [
  process.execPath,
  fileURLToPath(new URL('./fake-finger.js', import.meta.url)),
];

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen, as an endpoint description. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
  /** The finger command and its first arguments. @defaultValue {@link FAKE_FINGER} */
  command?: readonly [string, ...string[]] | undefined;
}

/** Listens for finger connections, answering with the command's output; the Deferred fires with the port. */
export function main(
  reactor: ServerReactor & IReactorProcess,
  options: FingerOptions = {},
): Deferred<IListeningPort> {
  const fingerEndpoint = serverFromString(reactor, options.endpoint ?? 'tcp:1079');
  return fingerEndpoint.listen(new FingerFactory(reactor, options.command ?? FAKE_FINGER));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { listenOrExit } = await import('../_cli.js');
  const usage =
    'node dist/examples/finger/finger09.js [endpoint] [command...]   (default tcp:1079)';
  const [executable, ...args] = process.argv.slice(3);
  const command = executable === undefined ? undefined : ([executable, ...args] as const);
  const port = await listenOrExit(usage, () =>
    main(reactor, { endpoint: process.argv[2], command }),
  );
  console.log(`finger server on ${String(port.getHost())}`);
  await reactor.run();
}
