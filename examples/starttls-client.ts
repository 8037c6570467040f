// The client of examples/starttls-server.ts: connects in the clear, sends
// `STARTTLS`, and on `GO AHEAD` starts TLS on the same connection,
// verifying the server's certificate against the CA file given; then sends
// its lines (written during the handshake: they go once it is done,
// encrypted), prints the echoes and hangs up.
//
// Run it: npm run build && node dist/examples/starttls-server.js KEY_FILE CERT_FILE
//         node dist/examples/starttls-client.js CA_FILE [host] [port] [line...]   (defaults 127.0.0.1, 8124, hello)
// With the repository's test certificate:
//   node dist/examples/starttls-client.js test/fixtures/tls/cas/localhost.pem 127.0.0.1 8124 hello world

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Deferred, type Failure } from 'torsion/defer';
import { connectProtocol, TCP4ClientEndpoint } from 'torsion/endpoints';
import { ConnectionDone } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IReactorTCP, IReactorTime, ITLSTransport } from 'torsion/reactor';
import { portArgument, startOrExit, UsageError } from './_cli.js';

const USAGE =
  'node dist/examples/starttls-client.js CA_FILE [host] [port] [line...]   (defaults 127.0.0.1, 8124, hello)';

/** The client's side: asks for STARTTLS, upgrades, sends its lines and prints the echoes. */
export class StartTLSClient extends LineReceiver {
  /** Fires when the connection has closed: after the last echo, or failing with why. */
  readonly done = new Deferred<void>();
  #waiting: number;

  /**
   * @param tls - The client's TLS settings: `ca` and `host` or `servername`.
   * @param lines - The lines to send once TLS is on.
   * @param print - Where what happens is told (a line each).
   */
  constructor(
    readonly tls: ConnectionOptions,
    readonly lines: readonly string[],
    readonly print: (line: string) => void,
  ) {
    super();
    this.#waiting = lines.length;
  }

  override connectionMade(): void {
    this.sendLine('STARTTLS');
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString('utf8');
    if (text === 'GO AHEAD') {
      (this.transport as ITLSTransport).startTLS(this.tls);
      // Written while the handshake goes on: sent once it is done, encrypted.
      for (const each of this.lines) this.sendLine(each);
      if (this.#waiting === 0) this.transport.loseConnection();
      return;
    }
    this.print(text);
    if (text.startsWith('ECHO ') && --this.#waiting === 0) this.transport.loseConnection();
  }

  handshakeCompleted(): void {
    const transport = this.transport as ITLSTransport;
    const subject = transport.getPeerCertificate()?.subject.CN ?? 'an unnamed server';
    this.print(`TLS on: the server proved it is ${subject}`);
  }

  override connectionLost(reason: Failure): void {
    if (reason.check(ConnectionDone) && this.#waiting === 0) this.done.callback(undefined);
    else this.done.errback(reason);
  }
}

/** Connects to `host`:`port`, upgrades, sends `lines`; the Deferred fires when it has hung up. */
export function main(
  reactor: IReactorTCP & IReactorTime,
  tls: ConnectionOptions,
  host: string,
  port: number,
  lines: readonly string[],
  print: (line: string) => void = console.log,
): Deferred<void> {
  const client = new StartTLSClient(tls, lines, print);
  return connectProtocol(new TCP4ClientEndpoint(reactor, host, port), client).addCallback(
    () => client.done,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const [caFile, host = '127.0.0.1', portText, ...rest] = process.argv.slice(2);
  const port = startOrExit(USAGE, () => {
    if (caFile === undefined) throw new UsageError('give the CA file that signed the server');
    return portArgument(portText, 8124);
  });
  const ca = startOrExit(USAGE, () => {
    try {
      return readFileSync(caFile as string, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read the CA file '${caFile}': ${(error as Error).message}`);
    }
  });
  let status = 0;
  main(reactor, { ca, host }, host, port, rest.length > 0 ? rest : ['hello'])
    .addErrback((failure: Failure) => {
      console.error(`error: ${failure.getErrorMessage()}`);
      status = 1;
    })
    .addBoth(() => reactor.stop());
  await reactor.run();
  process.exit(status);
}
