// A line protocol that upgrades to TLS in the middle of the connection
// (STARTTLS, as SMTP, IMAP and XMPP do): the client sends `STARTTLS`, the
// server answers `GO AHEAD` and both start TLS on the same connection; from
// then on each line is echoed back, encrypted. Before the upgrade the
// server refuses everything else. The client is examples/starttls-client.ts.
//
// Run it: npm run build && node dist/examples/starttls-server.js KEY_FILE CERT_FILE [port]   (default 8124)
// With the repository's test certificate (for localhost and 127.0.0.1):
//   node dist/examples/starttls-server.js test/fixtures/tls/localhost.key test/fixtures/tls/cas/localhost.pem

import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { Factory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IAddress, IListeningPort, IReactorTCP, ITLSTransport } from 'torsion/reactor';
import { portArgument, startOrExit, UsageError } from './_cli.js';

const USAGE = 'node dist/examples/starttls-server.js KEY_FILE CERT_FILE [port]   (default 8124)';

/** The server's side: upgrades on `STARTTLS`, then echoes each line. */
export class StartTLSServer extends LineReceiver {
  /** Whether TLS has been started on this connection. */
  secure = false;

  /** @param tls - The server's key and certificate (and any other `tls.createServer` option). */
  constructor(readonly tls: TlsOptions) {
    super();
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString('utf8');
    if (this.secure) {
      this.sendLine(`ECHO ${text}`);
    } else if (text === 'STARTTLS') {
      // Answered in the clear; everything written after startTLS is encrypted.
      this.sendLine('GO AHEAD');
      (this.transport as ITLSTransport).startTLS(this.tls);
      this.secure = true;
    } else {
      this.sendLine('ERR say STARTTLS first');
    }
  }
}

/** Makes a {@link StartTLSServer} per connection, all with the same key and certificate. */
export class StartTLSServerFactory extends Factory<StartTLSServer> {
  constructor(readonly tls: TlsOptions) {
    super();
  }

  override buildProtocol(_addr: IAddress): StartTLSServer {
    const protocol = new StartTLSServer(this.tls);
    protocol.factory = this;
    return protocol;
  }
}

/** Starts the server on `port` with the key and certificate given. */
export function main(
  reactor: IReactorTCP,
  tls: TlsOptions,
  port = 8124,
  iface?: string,
): IListeningPort {
  return reactor.listenTCP(
    port,
    new StartTLSServerFactory(tls),
    iface === undefined ? {} : { interface: iface },
  );
}

/** Reads the key and certificate files named on the command line. */
export function readKeyAndCertificate(keyFile?: string, certFile?: string): TlsOptions {
  if (keyFile === undefined || certFile === undefined) {
    throw new UsageError('give the key file and the certificate file');
  }
  const read = (what: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read the ${what} file '${file}': ${(error as Error).message}`);
    }
  };
  return { key: read('key', keyFile), cert: read('certificate', certFile) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const [keyFile, certFile, portText] = process.argv.slice(2);
  const port = startOrExit(USAGE, () =>
    main(reactor, readKeyAndCertificate(keyFile, certFile), portArgument(portText, 8124)),
  );
  console.log(`starttls server on ${String(port.getHost())}`);
  await reactor.run();
}
