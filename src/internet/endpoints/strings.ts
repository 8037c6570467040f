// Reading endpoint description strings ('tcp:8080:interface=127.0.0.1'):
// serverFromString and clientFromString, and the table of endpoint types
// they know (Twisted: twisted.internet.endpoints.serverFromString,
// clientFromString).
// Tests: test/unit/internet/endpoints-strings.test.ts, test/integration/endpoints.test.ts,
// test/integration/tls.test.ts, test/unit/internet/tls-strings.test.ts, test/integration/tls-strings.test.ts

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import type { IPAddress, UNIXAddress } from '../address.js';
import { EndpointStringError } from '../error.js';
import type {
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from '../interfaces.js';
import {
  SSL4ClientEndpoint,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  UNIXClientEndpoint,
} from './client.js';
import { tlsSources } from './describe.js';
import { HostnameEndpoint } from './hostname.js';
import {
  SSL4ServerEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
} from './server.js';

/** One `:`-separated segment of a description. */
interface Segment {
  /** As written, escapes included (for messages). */
  readonly raw: string;
  /** The option's name, for `key=value`; undefined for a positional argument. */
  readonly key: string | undefined;
  /** The value, unescaped. */
  readonly value: string;
}

/**
 * A hint for a stray segment that looks like a piece of an IPv6 address
 * (empty, or a few hex digits): the colons in a value must be escaped.
 */
function colonHint(segment: Segment): string {
  if (segment.key !== undefined || !/^[0-9a-fA-F]{0,4}$/.test(segment.value)) return '';
  return '; a colon inside a value, as in an IPv6 address, is written \\: (interface=\\:\\:1)';
}

/**
 * Splits a description into segments: `:` separates them, the first `=` in
 * a segment splits its name from its value (later ones are literal), and a
 * backslash takes the next character literally.
 */
function splitDescription(description: string): Segment[] {
  const segments: Segment[] = [];
  let raw = '';
  let current = '';
  let key: string | undefined;
  for (let i = 0; i < description.length; i++) {
    const c = description[i] as string;
    if (c === '\\') {
      const next = description[i + 1];
      if (next === undefined) {
        throw new EndpointStringError(
          description,
          raw + c,
          'a backslash at the end escapes nothing (write \\\\ for a backslash)',
        );
      }
      current += next;
      raw += c + next;
      i++;
    } else if (c === ':') {
      segments.push({ raw, key, value: current });
      raw = '';
      current = '';
      key = undefined;
    } else if (c === '=' && key === undefined) {
      key = current;
      current = '';
      raw += c;
    } else {
      current += c;
      raw += c;
    }
  }
  segments.push({ raw, key, value: current });
  return segments;
}

/** The arguments of one description, by name, with what the values mean. */
class Arguments {
  readonly #description: string;
  readonly #what: string;
  readonly #values = new Map<string, { value: string; raw: string }>();
  readonly #typeSegment: string;

  constructor(
    description: string,
    what: string,
    typeSegment: string,
    values: Map<string, { value: string; raw: string }>,
  ) {
    this.#description = description;
    this.#what = what;
    this.#typeSegment = typeSegment;
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** Throws an EndpointStringError about `name`'s segment (or the type's). */
  error(name: string | undefined, reason: string, cause?: unknown): never {
    const entry = name === undefined ? undefined : this.#values.get(name);
    throw new EndpointStringError(
      this.#description,
      entry?.raw ?? this.#typeSegment,
      reason,
      cause === undefined ? undefined : { cause },
    );
  }

  string(name: string): string | undefined {
    return this.#values.get(name)?.value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') {
      this.error(name, `${this.#what} needs a ${name}`);
    }
    return value;
  }

  port(name = 'port'): number {
    const text = this.required(name);
    const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(port >= 0 && port <= 65535)) {
      this.error(name, `${name} must be an integer from 0 to 65535, got '${text}'`);
    }
    return port;
  }

  integer(name: string, min: number): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && Number.isSafeInteger(n))) {
      this.error(name, `${name} must be an integer of at least ${min}, got '${text}'`);
    }
    return n;
  }

  seconds(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const n = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(n)) {
      this.error(name, `${name} must be a number of seconds, at least 0, got '${text}'`);
    }
    return n;
  }

  octal(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!/^[0-7]+$/.test(text)) this.error(name, `${name} must be an octal number, got '${text}'`);
    return Number.parseInt(text, 8);
  }

  flag(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) this.error(name, `${name} must be 0 or 1, got '${text}'`);
    return Number(text) !== 0;
  }

  bindAddress(): readonly [string, number] | undefined {
    const host = this.string('bindAddress');
    const port = this.has('bindPort') ? this.port('bindPort') : undefined;
    if (host === undefined) {
      if (port !== undefined) this.error('bindPort', 'bindPort needs a bindAddress');
      return undefined;
    }
    return [host, port ?? 0];
  }

  /** Reads a file named by option `name`, as text. */
  file(name: string, path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      this.error(name, `cannot read ${name} file '${path}': ${(error as Error).message}`, error);
    }
  }
}

/** How one endpoint type reads its arguments. */
interface EndpointType<R> {
  /** The names positional arguments fill, in order (unless given by name). */
  readonly positional: readonly string[];
  /** Every option it takes, positional ones included. */
  readonly options: readonly string[];
  /** Builds the endpoint. */
  build(reactor: R, args: Arguments): unknown;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in `text` (a file may hold a key too), or all of it if none is found. */
function certificatesOf(text: string): string {
  return (text.match(PEM_CERTIFICATE) ?? [text]).join('\n');
}

/** Reads the certificates of every `*.pem` file in a directory: trusted CAs. */
function certificatesIn(args: Arguments, name: string, directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch (error) {
    args.error(
      name,
      `cannot read ${name} directory '${directory}': ${(error as Error).message}`,
      error,
    );
  }
  const certificates: string[] = [];
  for (const entry of entries.sort()) {
    if (!entry.toLowerCase().endsWith('.pem')) continue;
    let text: string;
    try {
      text = readFileSync(join(directory, entry), 'utf8');
    } catch {
      // Unreadable (permissions, a directory named *.pem): not a CA, as in Twisted.
      continue;
    }
    certificates.push(...(text.match(PEM_CERTIFICATE) ?? []));
  }
  return certificates;
}

/**
 * What Twisted's `sslmethod` (the name of an OpenSSL method constant) means
 * for Node: the negotiable versions. SSL 2 and 3, TLS 1.0 and 1.1 are
 * refused: broken or deprecated, and off in Node's OpenSSL by default.
 */
function sslMethod(args: Arguments, method: string): Pick<TlsOptions, 'minVersion' | 'maxVersion'> {
  switch (method) {
    case 'SSLv23_METHOD':
    case 'TLS_METHOD':
    case 'TLS_SERVER_METHOD':
      // Any version both sides support: Node's defaults.
      return {};
    case 'TLSv1_2_METHOD':
      return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
    case 'SSLv2_METHOD':
    case 'SSLv3_METHOD':
      return args.error(
        'sslmethod',
        `sslmethod ${method} is refused: SSL 2 and 3 are broken and Node cannot speak them (use TLS_METHOD, the default, or TLSv1_2_METHOD)`,
      );
    case 'TLSv1_METHOD':
    case 'TLSv1_1_METHOD':
      return args.error(
        'sslmethod',
        `sslmethod ${method} is refused: TLS 1.0 and 1.1 are deprecated (RFC 8996) and off in Node by default (use TLS_METHOD, the default, or TLSv1_2_METHOD)`,
      );
    default:
      return args.error(
        'sslmethod',
        `unknown sslmethod '${method}' (known: SSLv23_METHOD, TLS_METHOD, TLSv1_2_METHOD)`,
      );
  }
}

const SERVER_TYPES: Record<string, EndpointType<ServerReactor>> = {
  tcp: {
    positional: ['port'],
    options: ['port', 'interface', 'backlog'],
    build: (reactor, args) =>
      new TCP4ServerEndpoint(reactor, args.port(), {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      }),
  },
  tcp6: {
    positional: ['port'],
    options: ['port', 'interface', 'backlog'],
    build: (reactor, args) =>
      new TCP6ServerEndpoint(reactor, args.port(), {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      }),
  },
  unix: {
    positional: ['address'],
    options: ['address', 'mode', 'backlog', 'lockfile'],
    build: (reactor, args) =>
      new UNIXServerEndpoint(reactor, args.required('address'), {
        mode: args.octal('mode'),
        backlog: args.integer('backlog', 1),
        // A description holds the lock file unless told otherwise (as Twisted).
        wantPID: args.flag('lockfile') ?? true,
      }),
  },
  ssl: {
    positional: ['port'],
    options: [
      'port',
      'privateKey',
      'certKey',
      'extraCertChain',
      'dhParameters',
      'sslmethod',
      'interface',
      'backlog',
    ],
    build: (reactor, args) => {
      const port = args.port();
      const keyFile = args.string('privateKey') ?? 'server.pem';
      const certFile = args.string('certKey') ?? keyFile;
      const chainFile = args.string('extraCertChain');
      const key = args.file('privateKey', keyFile);
      // Only the certificates: certKey may be privateKey's file, key included.
      let cert = certificatesOf(
        args.file(args.has('certKey') ? 'certKey' : 'privateKey', certFile),
      );
      const sources: Array<readonly [string, string]> = [['privateKey', keyFile]];
      if (certFile !== keyFile) sources.push(['certKey', certFile]);
      if (chainFile !== undefined) {
        const chain = args.file('extraCertChain', chainFile).match(PEM_CERTIFICATE);
        if (chain === null) {
          return args.error(
            'extraCertChain',
            `the chain file '${chainFile}' holds no PEM certificate`,
          );
        }
        // Node takes the chain as the certificates after the server's own.
        cert = [cert, ...chain].join('\n');
        sources.push(['extraCertChain', chainFile]);
      }
      const settings: TlsOptions = { key, cert };
      const dhFile = args.string('dhParameters');
      if (dhFile !== undefined) {
        const dhparam = args.file('dhParameters', dhFile);
        // Node ignores parameters it cannot read: check the PEM here.
        if (!/-----BEGIN DH PARAMETERS-----[\s\S]+-----END DH PARAMETERS-----/.test(dhparam)) {
          return args.error(
            'dhParameters',
            `the file '${dhFile}' holds no PEM Diffie-Hellman parameters (-----BEGIN DH PARAMETERS-----; make them with 'openssl dhparam -out ${dhFile} 2048')`,
          );
        }
        settings.dhparam = dhparam;
        sources.push(['dhParameters', dhFile]);
      }
      const method = args.string('sslmethod');
      if (method !== undefined) {
        Object.assign(settings, sslMethod(args, method));
        sources.push(['sslmethod', method]);
      }
      tlsSources.set(settings, sources);
      return new SSL4ServerEndpoint(reactor, port, settings, {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      });
    },
  },
};

const TCP_CLIENT_OPTIONS = ['host', 'port', 'timeout', 'bindAddress', 'bindPort'];

const CLIENT_TYPES: Record<string, EndpointType<ClientReactor>> = {
  tcp: {
    positional: ['host', 'port'],
    options: TCP_CLIENT_OPTIONS,
    build: (reactor, args) =>
      new TCP4ClientEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      }),
  },
  tcp6: {
    positional: ['host', 'port'],
    options: TCP_CLIENT_OPTIONS,
    build: (reactor, args) =>
      new TCP6ClientEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      }),
  },
  unix: {
    positional: ['path'],
    options: ['path', 'timeout', 'lockfile'],
    build: (reactor, args) =>
      new UNIXClientEndpoint(reactor, args.required('path'), {
        timeout: args.seconds('timeout'),
        checkPID: args.flag('lockfile'),
      }),
  },
  ssl: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'certKey', 'privateKey', 'caCertsDir', 'hostname'],
    build: (reactor, args) => {
      const host = args.required('host');
      const port = args.port();
      const sources: Array<readonly [string, string]> = [];
      const settings: ConnectionOptions = {};
      const certFile = args.string('certKey');
      const keyFile = args.string('privateKey');
      if (certFile !== undefined) {
        const certText = args.file('certKey', certFile);
        settings.cert = certificatesOf(certText);
        settings.key = keyFile === undefined ? certText : args.file('privateKey', keyFile);
        sources.push(['certKey', certFile]);
        if (keyFile !== undefined) sources.push(['privateKey', keyFile]);
      } else if (keyFile !== undefined) {
        return args.error(
          'privateKey',
          'privateKey needs certKey, the client certificate it goes with',
        );
      }
      const caDir = args.string('caCertsDir');
      if (caDir !== undefined) {
        settings.ca = certificatesIn(args, 'caCertsDir', caDir);
        sources.push(['caCertsDir', caDir]);
      }
      const hostname = args.string('hostname');
      if (hostname !== undefined) {
        settings.servername = hostname;
        sources.push(['hostname', hostname]);
      } else if (caDir !== undefined) {
        // Verify the chain against the given CAs, but no name (as Twisted's
        // CertificateOptions without a hostname).
        settings.checkServerIdentity = () => undefined;
      } else {
        // Neither trust nor a name to check: Twisted's non-verifying default.
        settings.rejectUnauthorized = false;
      }
      tlsSources.set(settings, sources);
      return new SSL4ClientEndpoint(reactor, host, port, settings, {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      });
    },
  },
  tls: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'attemptDelay', 'trustRoots', 'certificate', 'privateKey'],
    build: (reactor, args) => {
      const host = args.required('host');
      const port = args.port();
      const sources: Array<readonly [string, string]> = [];
      const settings: ConnectionOptions = {};
      const rootsDir = args.string('trustRoots');
      if (rootsDir !== undefined) {
        settings.ca = certificatesIn(args, 'trustRoots', rootsDir);
        sources.push(['trustRoots', rootsDir]);
      }
      const certFile = args.string('certificate');
      const keyFile = args.string('privateKey');
      if (certFile !== undefined) {
        const certText = args.file('certificate', certFile);
        settings.cert = certificatesOf(certText);
        settings.key = keyFile === undefined ? certText : args.file('privateKey', keyFile);
        sources.push(['certificate', certFile]);
        if (keyFile !== undefined) sources.push(['privateKey', keyFile]);
      } else if (keyFile !== undefined) {
        return args.error(
          'privateKey',
          'privateKey needs certificate, the client certificate it goes with',
        );
      }
      if (sources.length > 0) tlsSources.set(settings, sources);
      return new HostnameEndpoint(reactor, host, port, {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
        attemptDelay: args.seconds('attemptDelay'),
        tls: sources.length > 0 ? settings : true,
      });
    },
  },
  hostname: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'attemptDelay'],
    build: (reactor, args) =>
      new HostnameEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
        attemptDelay: args.seconds('attemptDelay'),
      }),
  },
};

/** Reads a description against the table of endpoint types. */
function parseDescription<R>(
  description: string,
  side: 'server' | 'client',
  types: Record<string, EndpointType<R>>,
  reactor: R,
): unknown {
  if (typeof description !== 'string') {
    throw new TypeError(`an endpoint description is a string, got ${typeof description}`);
  }
  const [first, ...rest] = splitDescription(description);
  const typeSegment = first as Segment;
  const known = Object.keys(types).join(', ');
  if (typeSegment.key !== undefined || typeSegment.value === '') {
    throw new EndpointStringError(
      description,
      typeSegment.raw,
      `a description starts with the endpoint type (${known})`,
    );
  }
  const typeName = typeSegment.value.toLowerCase();
  const type = Object.hasOwn(types, typeName) ? types[typeName] : undefined;
  if (type === undefined) {
    throw new EndpointStringError(
      description,
      typeSegment.raw,
      `unknown ${side} endpoint type '${typeSegment.value}' (known: ${known})`,
    );
  }
  const what = `a ${typeName} ${side} endpoint`;
  const values = new Map<string, { value: string; raw: string }>();
  const positional: Segment[] = [];
  for (const segment of rest) {
    if (segment.key === undefined) {
      positional.push(segment);
      continue;
    }
    if (!type.options.includes(segment.key)) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `unknown option '${segment.key}' for ${what} (it takes ${type.options.join(', ')})`,
      );
    }
    if (values.has(segment.key)) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `option '${segment.key}' given twice`,
      );
    }
    values.set(segment.key, { value: segment.value, raw: segment.raw });
  }
  const open = type.positional.filter((name) => !values.has(name));
  for (const [index, segment] of positional.entries()) {
    const name = open[index];
    if (name === undefined) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `unexpected argument '${segment.value}' for ${what} (its positional arguments: ${type.positional.join(', ')})${colonHint(segment)}`,
      );
    }
    values.set(name, { value: segment.value, raw: segment.raw });
  }
  return type.build(reactor, new Arguments(description, what, typeSegment.raw, values));
}

/** What {@link serverFromString} needs of a reactor: whatever the description asks for. */
export type ServerReactor = IReactorTCP & IReactorUNIX & IReactorSSL;

/** What {@link clientFromString} needs of a reactor: whatever the description asks for. */
export type ClientReactor = IReactorTCP & IReactorUNIX & IReactorSSL & IReactorTime;

/**
 * Makes a server endpoint from a description string.
 *
 * @remarks
 * A description is a type, then `:`-separated arguments: positional ones,
 * and options written `name=value`. Within a segment the first `=` splits
 * the name from the value (later ones are part of the value); a backslash
 * makes the next character literal (`\:`, `\=`, `\\`; see
 * {@link quoteStringArgument}). The types:
 *
 * - `tcp:PORT[:interface=IP][:backlog=N]` (also `tcp:port=PORT`):
 *   {@link TCP4ServerEndpoint}.
 * - `tcp6:PORT[:interface=IP][:backlog=N]`: {@link TCP6ServerEndpoint}.
 * - `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]` (`lockfile`
 *   defaults to 1): {@link UNIXServerEndpoint}.
 * - `ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:dhParameters=FILE][:sslmethod=NAME][:interface=IP][:backlog=N]`:
 *   {@link SSL4ServerEndpoint}; `privateKey` defaults to `server.pem` and
 *   `certKey` to `privateKey` (one PEM file with key and certificate);
 *   `extraCertChain` holds the intermediate certificates sent after the
 *   server's; `dhParameters` is a PEM file of Diffie-Hellman parameters
 *   (`openssl dhparam`, Node's `dhparam`), which enables the `DHE` cipher
 *   suites of TLS 1.2; `sslmethod` is `TLS_METHOD` or `SSLv23_METHOD` (any
 *   version, the default) or `TLSv1_2_METHOD` (TLS 1.2 only), older
 *   methods are refused. The files are read now.
 *
 * Every endpoint's `toString()` is a description this function turns back
 * into an equal endpoint.
 *
 * @example
 * ```ts
 * const endpoint = serverFromString(reactor, 'tcp:8080:interface=127.0.0.1');
 * await endpoint.listen(Factory.forProtocol(Echo));
 * ```
 *
 * @param reactor - The reactor the endpoint listens with.
 * @param description - The description.
 * @returns The endpoint; its ports' `getHost()` is an `IPv4Address`,
 *   `IPv6Address` or `UNIXAddress` (narrow with `instanceof`).
 * @throws {@link EndpointStringError} for a description that cannot be read
 *   (unknown type, missing or unexpected argument, bad number, unknown
 *   option, unreadable file), naming the segment at fault.
 * @see Twisted: twisted.internet.endpoints.serverFromString
 * @since 0.1.0
 */
export function serverFromString(
  reactor: ServerReactor,
  description: string,
): IStreamServerEndpoint<IPAddress | UNIXAddress> {
  return parseDescription(description, 'server', SERVER_TYPES, reactor) as IStreamServerEndpoint<
    IPAddress | UNIXAddress
  >;
}

/**
 * Makes a client endpoint from a description string.
 *
 * @remarks
 * The grammar is {@link serverFromString}'s. The types:
 *
 * - `tcp:HOST:PORT[:timeout=S][:bindAddress=IP][:bindPort=N]` (also
 *   `tcp:host=HOST:port=PORT`): {@link TCP4ClientEndpoint}.
 * - `tcp6:HOST:PORT[…]`: {@link TCP6ClientEndpoint}.
 * - `unix:PATH[:timeout=S][:lockfile=0|1]` (also `unix:path=PATH`):
 *   {@link UNIXClientEndpoint}.
 * - `ssl:HOST:PORT[:certKey=FILE][:privateKey=FILE][:caCertsDir=DIR][:hostname=NAME][:timeout=S][:bindAddress=IP]`:
 *   {@link SSL4ClientEndpoint}. `certKey` (and `privateKey`, defaulting to
 *   `certKey`) give a client certificate; `caCertsDir` is a directory whose
 *   `*.pem` certificates are the CAs trusted; `hostname` is the name the
 *   server's certificate must carry (verified against `caCertsDir`, or Node's
 *   bundled roots). **With neither `caCertsDir` nor `hostname`, the server's
 *   certificate is not verified at all** (as in Twisted); use `tls:` to
 *   connect securely.
 * - `tls:HOST:PORT[:timeout=S][:bindAddress=IP][:attemptDelay=S][:trustRoots=DIR][:certificate=FILE][:privateKey=FILE]`:
 *   a {@link HostnameEndpoint} with TLS, verifying the server against Node's
 *   bundled roots (or the `*.pem` certificates of `trustRoots`) and the host
 *   name.
 * - `hostname:HOST:PORT[:timeout=S][:bindAddress=IP][:attemptDelay=S]`: a
 *   {@link HostnameEndpoint} (not in Twisted; it lets a HostnameEndpoint
 *   describe itself).
 *
 * Files are read now. Every endpoint's `toString()` is a description this
 * function turns back into an equal endpoint.
 *
 * @example
 * ```ts
 * const endpoint = clientFromString(reactor, 'tls:example.com:443');
 * const protocol = await endpoint.connect(Factory.forProtocol(Client));
 * ```
 *
 * @param reactor - The reactor the endpoint connects (and keeps time) with.
 * @param description - The description.
 * @returns The endpoint.
 * @throws {@link EndpointStringError} for a description that cannot be read,
 *   naming the segment at fault.
 * @see Twisted: twisted.internet.endpoints.clientFromString
 * @since 0.1.0
 */
export function clientFromString(
  reactor: ClientReactor,
  description: string,
): IStreamClientEndpoint {
  return parseDescription(description, 'client', CLIENT_TYPES, reactor) as IStreamClientEndpoint;
}
