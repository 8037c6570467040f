// A client for the chat server of examples/chat-server.ts: each line typed
// on standard input goes to the server, and each line the server sends is
// printed. Standard input and output are a transport too (StandardIO), so
// the program is two LineReceivers handing lines to each other: one on the
// terminal, one on the connection. `/quit` or the end of input (Ctrl-D)
// hangs up; the server hanging up ends the program too.
//
// Run it: npm run build && node dist/examples/chat-server.js
//         node dist/examples/chat-client.js [host] [port]   (defaults 127.0.0.1 and 8123)

import { Deferred, type Failure } from 'torsion/defer';
import { type ClientReactor, clientFromString, connectProtocol } from 'torsion/endpoints';
import { LineReceiver } from 'torsion/protocols/basic';
import { StandardIO, type StandardIOOptions, type StandardIOReactor } from 'torsion/stdio';
import { portArgument, startOrExit, UsageError } from './_cli.js';

const NEWLINE = Buffer.from('\n');

/** The connection to the server: prints what the server says on the terminal. */
export class ChatClient extends LineReceiver {
  /** Fires once both the connection and the terminal are closed. */
  readonly done = new Deferred<void>();
  #terminal: StandardIO | undefined;
  #open = 2;

  /**
   * @param reactor - For the terminal's StandardIO.
   * @param io - The terminal's streams (the process's own by default).
   */
  constructor(
    readonly reactor: StandardIOReactor,
    readonly io: StandardIOOptions = {},
  ) {
    super();
  }

  override connectionMade(): void {
    // Read the keyboard only once there is somewhere to send the lines.
    this.#terminal = new StandardIO(new ChatTerminal(this), this.reactor, this.io);
  }

  override lineReceived(line: Buffer): void {
    this.#terminal?.write(Buffer.concat([line, NEWLINE]));
  }

  override connectionLost(): void {
    // The server hung up: stop reading the keyboard, after printing what came.
    this.#terminal?.loseConnection();
    this.sideClosed();
  }

  /** One side (the connection or the terminal) has closed. */
  sideClosed(): void {
    if (--this.#open === 0) this.done.callback(undefined);
  }
}

/** The terminal: sends each line typed to the server; `/quit` hangs up. */
export class ChatTerminal extends LineReceiver {
  // A terminal ends lines with LF; a CR before it (from Windows) is dropped below.
  override delimiter = NEWLINE;

  constructor(readonly chat: ChatClient) {
    super();
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text === '/quit') this.transport.loseConnection();
    else this.chat.sendLine(text);
  }

  override connectionLost(): void {
    // /quit, or the end of input: hang up.
    this.chat.transport.loseConnection();
    this.chat.sideClosed();
  }
}

/** Options of {@link main}. */
export interface ChatClientOptions extends StandardIOOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string | undefined;
  /** @defaultValue 8123 */
  port?: number | undefined;
}

/**
 * Connects to the chat server and runs the session; the Deferred fires when
 * it is over, or fails if no connection could be made.
 */
export function main(
  reactor: ClientReactor & StandardIOReactor,
  options: ChatClientOptions = {},
): Deferred<void> {
  const { host = '127.0.0.1', port = 8123, stdin, stdout } = options;
  // A colon inside an endpoint description's value is written \: (IPv6).
  const endpoint = clientFromString(
    reactor,
    `tcp:host=${host.replaceAll(':', '\\:')}:port=${port}`,
  );
  const client = new ChatClient(reactor, { stdin, stdout });
  return connectProtocol(endpoint, client).addCallback(() => client.done);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { react, SystemExit } = await import('torsion/task');
  const usage = 'node dist/examples/chat-client.js [host] [port]   (defaults 127.0.0.1 and 8123)';
  const [host, portText, ...extra] = process.argv.slice(2);
  const port = startOrExit(usage, () => {
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    return portArgument(portText, 8123);
  });
  await react((reactor) =>
    main(reactor, { host, port }).addErrback((reason: Failure) => {
      process.stderr.write(`error: ${reason.getErrorMessage()}\nusage: ${usage}\n`);
      throw new SystemExit(1);
    }),
  );
}
