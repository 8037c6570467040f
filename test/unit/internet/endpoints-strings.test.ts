// Endpoint description strings: the grammar, every server and client type,
// the errors and their messages, and the round trip through toString().
// (Twisted: twisted/internet/test/test_endpoints.py ParserTests,
// ServerStringTests, ClientStringTests, SSLClientStringTests,
// WrapClientTLSParserTests.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { Deferred } from 'torsion/defer';
import {
  clientFromString,
  EndpointStringError,
  HostnameEndpoint,
  type IStreamClientEndpoint,
  type IStreamServerEndpoint,
  quoteStringArgument,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  serverFromString,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from 'torsion/endpoints';
import { Factory, type IPv4Address, type IPv6Address, Protocol } from 'torsion/protocol';
import { failureResultOf, MemoryReactorClock } from 'torsion/testing';
import {
  CAS_DIR,
  CERT,
  CERT_FILE,
  COMBINED_FILE,
  KEY,
  KEY_FILE,
  TLS_DIR,
} from '../../helpers/tls.js';

const reactor = new MemoryReactorClock();
const q = quoteStringArgument;

function server<T>(description: string, type: new (...args: never[]) => T): T {
  const endpoint = serverFromString(reactor, description);
  assert.ok(endpoint instanceof type, `${description} made a ${endpoint.constructor.name}`);
  return endpoint;
}

function client<T>(description: string, type: new (...args: never[]) => T): T {
  const endpoint = clientFromString(reactor, description);
  assert.ok(endpoint instanceof type, `${description} made a ${endpoint.constructor.name}`);
  return endpoint;
}

describe('the description grammar', () => {
  test('reads tcp:PORT with the default interface and backlog', () => {
    const endpoint = server('tcp:80', TCP4ServerEndpoint);
    assert.equal(endpoint.reactor, reactor);
    assert.deepEqual([endpoint.port, endpoint.interface, endpoint.backlog], [80, '', 511]);
  });

  test('reads the interface option as a string and the backlog as an integer', () => {
    assert.equal(server('tcp:80:interface=127.0.0.1', TCP4ServerEndpoint).interface, '127.0.0.1');
    assert.equal(server('tcp:80:backlog=6', TCP4ServerEndpoint).backlog, 6);
  });

  test('takes a positional argument by its name too', () => {
    assert.equal(server('tcp:port=80', TCP4ServerEndpoint).port, 80);
    assert.equal(server('tcp:interface=127.0.0.1:port=80', TCP4ServerEndpoint).port, 80);
  });

  test('reads the type whatever its case', () => {
    assert.equal(server('TCP:80', TCP4ServerEndpoint).port, 80);
    assert.equal(client('Unix:/x', UNIXClientEndpoint).path, '/x');
  });

  test('reads unix:PATH with mode 0666, backlog 511 and a lock file', () => {
    const endpoint = server('unix:/var/run/finger', UNIXServerEndpoint);
    assert.deepEqual(
      [endpoint.address, endpoint.mode, endpoint.backlog, endpoint.wantPID],
      ['/var/run/finger', 0o666, 511, true],
    );
  });

  test('reads mode as octal and lockfile=0 as no lock file', () => {
    assert.equal(server('unix:/var/run/finger:mode=0660', UNIXServerEndpoint).mode, 0o660);
    assert.equal(server('unix:/var/run/finger:lockfile=0', UNIXServerEndpoint).wantPID, false);
  });

  test('takes the character after a backslash literally', () => {
    assert.equal(
      server('unix:foo\\:bar\\=baz\\:qux\\\\', UNIXServerEndpoint).address,
      'foo:bar=baz:qux\\',
    );
  });

  test('splits a segment at its first = only: later ones belong to the value', () => {
    assert.equal(server('unix:address=foo=bar', UNIXServerEndpoint).address, 'foo=bar');
  });

  test('quoteStringArgument escapes backslashes, colons and equals signs', () => {
    assert.equal(quoteStringArgument('some : stuff \\'), 'some \\: stuff \\\\');
    assert.equal(quoteStringArgument('a=b'), 'a\\=b');
    const path = 'C:\\keys=old\\a.pem';
    assert.equal(server(`unix:${q(path)}`, UNIXServerEndpoint).address, path);
  });
});

describe('serverFromString', () => {
  test('makes a TCP4ServerEndpoint with the values of the description', () => {
    const endpoint = server('tcp:1234:backlog=12:interface=10.0.0.1', TCP4ServerEndpoint);
    assert.equal(endpoint.reactor, reactor);
    assert.deepEqual([endpoint.port, endpoint.backlog, endpoint.interface], [1234, 12, '10.0.0.1']);
  });

  test('makes a TCP6ServerEndpoint listening on :: by default', () => {
    assert.deepEqual(
      [
        server('tcp6:8080', TCP6ServerEndpoint).interface,
        server('tcp6:8080', TCP6ServerEndpoint).port,
      ],
      ['::', 8080],
    );
    assert.equal(server('tcp6:80:interface=\\:\\:1', TCP6ServerEndpoint).interface, '::1');
  });

  test('makes a UNIXServerEndpoint with the values of the description', () => {
    const endpoint = server('unix:/var/foo/bar:backlog=7:mode=0123:lockfile=1', UNIXServerEndpoint);
    assert.equal(endpoint.reactor, reactor);
    assert.deepEqual(
      [endpoint.address, endpoint.backlog, endpoint.mode, endpoint.wantPID],
      ['/var/foo/bar', 7, 0o123, true],
    );
  });

  test('makes an SSL4ServerEndpoint whose settings hold the key and certificate files', () => {
    const endpoint = server(
      `ssl:1234:backlog=12:privateKey=${q(KEY_FILE)}:certKey=${q(CERT_FILE)}:interface=10.0.0.1`,
      SSL4ServerEndpoint,
    );
    assert.deepEqual([endpoint.port, endpoint.backlog, endpoint.interface], [1234, 12, '10.0.0.1']);
    assert.equal(endpoint.sslContextFactory.key, KEY);
    assert.equal(endpoint.sslContextFactory.cert, CERT.trim());
    createSecureContext(endpoint.sslContextFactory);
  });

  test('takes the certificate from the key file when certKey is left out', () => {
    const endpoint = server(`ssl:4321:privateKey=${q(COMBINED_FILE)}`, SSL4ServerEndpoint);
    assert.deepEqual([endpoint.port, endpoint.backlog, endpoint.interface], [4321, 511, '']);
    assert.equal(endpoint.sslContextFactory.cert, CERT.trim());
    createSecureContext(endpoint.sslContextFactory);
  });

  test('appends the certificates of extraCertChain to the server’s own', () => {
    const endpoint = server(
      `ssl:1234:privateKey=${q(COMBINED_FILE)}:extraCertChain=${q(CERT_FILE)}`,
      SSL4ServerEndpoint,
    );
    assert.equal(endpoint.sslContextFactory.cert, `${CERT.trim()}\n${CERT.trim()}`);
  });

  test('rejects an extraCertChain file that holds no certificate, naming it', () => {
    const chain = `${TLS_DIR}README.md`;
    assert.throws(
      () =>
        serverFromString(
          reactor,
          `ssl:1234:privateKey=${q(COMBINED_FILE)}:extraCertChain=${q(chain)}`,
        ),
      (error: unknown) =>
        error instanceof EndpointStringError &&
        error.segment === `extraCertChain=${q(chain)}` &&
        error.message.includes(`the chain file '${chain}' holds no PEM certificate`),
    );
  });

  test('rejects a key file it cannot read, naming the segment and the file', () => {
    const description = 'ssl:443:privateKey=/nonexistent/key.pem';
    assert.throws(
      () => serverFromString(reactor, description),
      (error: unknown) =>
        error instanceof EndpointStringError &&
        error.segment === 'privateKey=/nonexistent/key.pem' &&
        /cannot read privateKey file '\/nonexistent\/key\.pem'/.test(error.message) &&
        (error.cause as NodeJS.ErrnoException).code === 'ENOENT',
    );
  });

  test('looks for server.pem when privateKey is left out', () => {
    assert.throws(
      () => serverFromString(reactor, 'ssl:443'),
      (error: unknown) =>
        error instanceof EndpointStringError && /privateKey file 'server\.pem'/.test(error.message),
    );
  });

  test('rejects an unknown type with a message naming it', () => {
    assert.throws(
      () => serverFromString(reactor, 'ftl:andromeda/carcosa/hali/2387'),
      (error: unknown) =>
        error instanceof EndpointStringError &&
        error.code === 'ERR_ENDPOINT_STRING' &&
        error.segment === 'ftl' &&
        error.message ===
          "bad endpoint description 'ftl:andromeda/carcosa/hali/2387': segment 'ftl': unknown server endpoint type 'ftl' (known: tcp, tcp6, unix, ssl)",
    );
  });
});

describe('clientFromString', () => {
  test('makes a TCP4ClientEndpoint from options', () => {
    const endpoint = client(
      'tcp:host=example.com:port=1234:timeout=7:bindAddress=10.0.0.2',
      TCP4ClientEndpoint,
    );
    assert.equal(endpoint.reactor, reactor);
    assert.deepEqual(
      [endpoint.host, endpoint.port, endpoint.timeout, endpoint.bindAddress],
      ['example.com', 1234, 7, ['10.0.0.2', 0]],
    );
  });

  test('takes host and port positionally, either or both', () => {
    for (const description of [
      'tcp:example.com:1234:timeout=7:bindAddress=10.0.0.2',
      'tcp:example.com:port=1234:timeout=7',
      'tcp:host=example.com:1234:timeout=7',
    ]) {
      const endpoint = client(description, TCP4ClientEndpoint);
      assert.deepEqual([endpoint.host, endpoint.port, endpoint.timeout], ['example.com', 1234, 7]);
    }
  });

  test('defaults to a 30 second timeout and no bind address', () => {
    const endpoint = client('tcp:host=example.com:port=1234', TCP4ClientEndpoint);
    assert.equal(endpoint.timeout, 30);
    assert.equal(endpoint.bindAddress, undefined);
  });

  test('reads a fractional timeout and a bind port', () => {
    const endpoint = client(
      'tcp:example.com:80:timeout=2.5:bindAddress=10.0.0.2:bindPort=4000',
      TCP4ClientEndpoint,
    );
    assert.equal(endpoint.timeout, 2.5);
    assert.deepEqual(endpoint.bindAddress, ['10.0.0.2', 4000]);
  });

  test('makes a TCP6ClientEndpoint from tcp6', () => {
    const endpoint = client('tcp6:\\:\\:1:80', TCP6ClientEndpoint);
    assert.deepEqual([endpoint.host, endpoint.port], ['::1', 80]);
  });

  test('makes a UNIXClientEndpoint from options or a positional path', () => {
    for (const description of [
      'unix:path=/var/foo/bar:lockfile=1:timeout=9',
      'unix:/var/foo/bar:lockfile=1:timeout=9',
    ]) {
      const endpoint = client(description, UNIXClientEndpoint);
      assert.equal(endpoint.reactor, reactor);
      assert.deepEqual(
        [endpoint.path, endpoint.timeout, endpoint.checkPID],
        ['/var/foo/bar', 9, true],
      );
    }
  });

  test('defaults a UNIX client to a 30 second timeout and no lock file check', () => {
    const endpoint = client('unix:path=/var/foo/bar', UNIXClientEndpoint);
    assert.deepEqual([endpoint.timeout, endpoint.checkPID], [30, false]);
  });

  test('makes an SSL4ClientEndpoint with a client certificate and the CAs of a directory', () => {
    for (const description of [
      `ssl:host=example.net:port=4321:privateKey=${q(KEY_FILE)}:certKey=${q(CERT_FILE)}:bindAddress=10.0.0.3:timeout=3:caCertsDir=${q(CAS_DIR)}`,
      `ssl:example.net:4321:privateKey=${q(KEY_FILE)}:certKey=${q(CERT_FILE)}:bindAddress=10.0.0.3:timeout=3:caCertsDir=${q(CAS_DIR)}`,
    ]) {
      const endpoint = client(description, SSL4ClientEndpoint);
      assert.equal(endpoint.reactor, reactor);
      assert.deepEqual(
        [endpoint.host, endpoint.port, endpoint.timeout, endpoint.bindAddress],
        ['example.net', 4321, 3, ['10.0.0.3', 0]],
      );
      const settings = endpoint.sslContextFactory;
      assert.equal(settings.cert, CERT.trim());
      assert.equal(settings.key, KEY);
      assert.deepEqual(settings.ca, [CERT.trim()]);
      // Trusting the directory verifies the chain but, without hostname=, no name.
      assert.equal(settings.rejectUnauthorized, undefined);
      assert.equal(typeof settings.checkServerIdentity, 'function');
      createSecureContext(settings);
    }
  });

  test('takes as CAs the certificates of the *.pem files of caCertsDir, and nothing else', () => {
    const endpoint = client(`ssl:example.net:4321:caCertsDir=${q(TLS_DIR)}`, SSL4ClientEndpoint);
    // localhost-combined.pem holds a key and the certificate; the rest is not *.pem.
    assert.deepEqual(endpoint.sslContextFactory.ca, [CERT.trim()]);
  });

  test('makes a non-verifying SSL4ClientEndpoint when neither CAs nor a host name is given', () => {
    const endpoint = client('ssl:example.net:4321', SSL4ClientEndpoint);
    assert.deepEqual(endpoint.sslContextFactory, { rejectUnauthorized: false });
    assert.equal(
      client('ssl:host=simple.example.org:port=4321', SSL4ClientEndpoint).sslContextFactory
        .rejectUnauthorized,
      false,
    );
  });

  test('checks the certificate against hostname, with the bundled roots when no CAs are given', () => {
    const endpoint = client('ssl:10.0.0.1:443:hostname=example.net', SSL4ClientEndpoint);
    assert.deepEqual(endpoint.sslContextFactory, { servername: 'example.net' });
  });

  test('makes a HostnameEndpoint with TLS from tls', () => {
    const endpoint = client(
      'tls:example.com:443:timeout=10:bindAddress=127.0.0.1',
      HostnameEndpoint,
    );
    assert.equal(endpoint.reactor, reactor);
    assert.deepEqual(
      [endpoint.host, endpoint.port, endpoint.timeout, endpoint.bindAddress, endpoint.tls],
      ['example.com', 443, 10, ['127.0.0.1', 0], true],
    );
  });

  test('makes a tls endpoint trusting a directory, with a client certificate', () => {
    const endpoint = client(
      `tls:localhost:4321:privateKey=${q(KEY_FILE)}:certificate=${q(CERT_FILE)}:trustRoots=${q(CAS_DIR)}`,
      HostnameEndpoint,
    );
    assert.deepEqual(endpoint.tls, { ca: [CERT.trim()], cert: CERT.trim(), key: KEY });
  });

  test('looks an internationalized tls host up, and checks its certificate, in IDNA form', () => {
    const asked: string[] = [];
    const resolving = Object.assign(new MemoryReactorClock(), {
      resolveHostName(name: string) {
        asked.push(name);
        return new Deferred<Array<IPv4Address | IPv6Address>>();
      },
    });
    const endpoint = clientFromString(resolving, 'tls:\u00e9xample.example.com:443');
    assert.ok(endpoint instanceof HostnameEndpoint);
    assert.equal(endpoint.host, '\u00e9xample.example.com');
    const d = endpoint.connect(Factory.forProtocol(Protocol));
    assert.deepEqual(asked, ['xn--xample-9ua.example.com']);
    d.cancel();
    failureResultOf(d);
  });

  test('makes a HostnameEndpoint without TLS from hostname', () => {
    const endpoint = client('hostname:example.com:80:attemptDelay=0.1', HostnameEndpoint);
    assert.deepEqual(
      [endpoint.host, endpoint.port, endpoint.attemptDelay, endpoint.tls],
      ['example.com', 80, 0.1, false],
    );
  });

  test('rejects an unknown type with a message naming it', () => {
    assert.throws(
      () => clientFromString(reactor, 'ftl:andromeda/carcosa/hali/2387'),
      (error: unknown) =>
        error instanceof EndpointStringError &&
        error.message.includes(
          "unknown client endpoint type 'ftl' (known: tcp, tcp6, unix, ssl, tls, hostname)",
        ),
    );
  });
});

describe('bad descriptions', () => {
  const cases: Array<
    [side: 'server' | 'client', description: string, segment: string, reason: RegExp]
  > = [
    ['server', '', '', /starts with the endpoint type/],
    ['server', 'port=80', 'port=80', /starts with the endpoint type/],
    ['server', 'tcp', 'tcp', /a tcp server endpoint needs a port/],
    ['server', 'tcp:http', 'http', /port must be an integer from 0 to 65535, got 'http'/],
    ['server', 'tcp:70000', '70000', /port must be an integer from 0 to 65535, got '70000'/],
    ['server', 'tcp:-1', '-1', /port must be an integer/],
    [
      'server',
      'tcp:80:backlog=many',
      'backlog=many',
      /backlog must be an integer of at least 1, got 'many'/,
    ],
    [
      'server',
      'tcp:80:color=red',
      'color=red',
      /unknown option 'color' for a tcp server endpoint \(it takes port, interface, backlog\)/,
    ],
    ['server', 'tcp:80:81', '81', /unexpected argument '81' for a tcp server endpoint/],
    [
      'server',
      'tcp:8080:interface=::1',
      '',
      /unexpected argument '' .*; a colon inside a value, as in an IPv6 address, is written \\: \(interface=\\:\\:1\)$/,
    ],
    [
      'server',
      'tcp:8080:interface=fe80::1',
      '',
      /a colon inside a value, as in an IPv6 address, is written \\:/,
    ],
    ['server', 'tcp:80:backlog=1:backlog=2', 'backlog=2', /option 'backlog' given twice/],
    ['server', 'unix:/p:mode=999', 'mode=999', /mode must be an octal number, got '999'/],
    ['server', 'unix:/p:lockfile=yes', 'lockfile=yes', /lockfile must be 0 or 1, got 'yes'/],
    ['server', 'tcp:80\\', '80\\', /a backslash at the end escapes nothing/],
    ['client', 'tcp:example.com', 'tcp', /a tcp client endpoint needs a port/],
    ['client', 'tcp::80', '', /a tcp client endpoint needs a host/],
    [
      'client',
      'tcp:example.com:80:timeout=soon',
      'timeout=soon',
      /timeout must be a number of seconds, at least 0, got 'soon'/,
    ],
    ['client', 'tcp:example.com:80:bindPort=5', 'bindPort=5', /bindPort needs a bindAddress/],
    ['client', 'unix', 'unix', /a unix client endpoint needs a path/],
    [
      'client',
      'ssl:example.com:443:privateKey=k.pem',
      'privateKey=k.pem',
      /privateKey needs certKey/,
    ],
    [
      'client',
      'ssl:example.com:443:caCertsDir=/nonexistent',
      'caCertsDir=/nonexistent',
      /cannot read caCertsDir directory '\/nonexistent'/,
    ],
    [
      'client',
      'tls:example.com:443:endpoint=tcp\\:x\\:1',
      'endpoint=tcp\\:x\\:1',
      /unknown option 'endpoint' for a tls client endpoint/,
    ],
    [
      'client',
      'hostname:example.com:80:attemptDelay=-1',
      'attemptDelay=-1',
      /attemptDelay must be a number of seconds/,
    ],
  ];
  for (const [side, description, segment, reason] of cases) {
    test(`${side}FromString('${description}') names segment '${segment}' and says why`, () => {
      const parse = side === 'server' ? serverFromString : clientFromString;
      assert.throws(
        () => parse(reactor, description),
        (error: unknown) => {
          assert.ok(error instanceof EndpointStringError, String(error));
          assert.equal(error.name, 'EndpointStringError');
          assert.equal(error.code, 'ERR_ENDPOINT_STRING');
          assert.equal(error.description, description);
          assert.equal(error.segment, segment);
          assert.match(error.reason, reason);
          assert.ok(error.message.startsWith(`bad endpoint description '${description}': `));
          if (segment !== '') assert.ok(error.message.includes(`segment '${segment}': `));
          return true;
        },
      );
    });
  }
});

describe('toString() and back', () => {
  const servers: IStreamServerEndpoint[] = [
    new TCP4ServerEndpoint(reactor, 80),
    new TCP4ServerEndpoint(reactor, 0, { backlog: 7, interface: '127.0.0.1' }),
    new TCP6ServerEndpoint(reactor, 8080),
    new TCP6ServerEndpoint(reactor, 8080, { interface: '::1', backlog: 100 }),
    new UNIXServerEndpoint(reactor, '/run/app.sock'),
    new UNIXServerEndpoint(reactor, '/tmp/we:ird=na\\me', {
      mode: 0o600,
      backlog: 3,
      wantPID: true,
    }),
    serverFromString(reactor, `ssl:443:privateKey=${q(COMBINED_FILE)}`),
    serverFromString(
      reactor,
      `ssl:0:privateKey=${q(KEY_FILE)}:certKey=${q(CERT_FILE)}:extraCertChain=${q(CERT_FILE)}:interface=127.0.0.1:backlog=9`,
    ),
  ];
  for (const endpoint of servers) {
    test(`serverFromString reads '${endpoint}' back into an equal ${endpoint.constructor.name}`, () => {
      const description = String(endpoint);
      const again = serverFromString(reactor, description);
      assert.equal(again.constructor, endpoint.constructor);
      assert.equal(String(again), description);
      const fields = (e: IStreamServerEndpoint): Record<string, unknown> => ({
        ...e,
        sslContextFactory: undefined,
      });
      assert.deepEqual(fields(again), fields(endpoint));
      if (endpoint instanceof SSL4ServerEndpoint && again instanceof SSL4ServerEndpoint) {
        assert.deepEqual(again.sslContextFactory, endpoint.sslContextFactory);
      }
    });
  }

  const clients: IStreamClientEndpoint[] = [
    new TCP4ClientEndpoint(reactor, 'example.com', 80),
    new TCP4ClientEndpoint(reactor, '10.0.0.1', 8080, {
      timeout: 2.5,
      bindAddress: ['10.0.0.2', 0],
    }),
    new TCP4ClientEndpoint(reactor, 'example.com', 80, { bindAddress: ['10.0.0.2', 4000] }),
    new TCP6ClientEndpoint(reactor, '::1', 80, { timeout: 1 }),
    new TCP6ClientEndpoint(reactor, 'ipv6.example.com', 80),
    new UNIXClientEndpoint(reactor, '/run/app.sock'),
    new UNIXClientEndpoint(reactor, '/tmp/a:b=c', { timeout: 9, checkPID: true }),
    new HostnameEndpoint(reactor, 'example.com', 80),
    new HostnameEndpoint(reactor, '2001:db8::1', 80, {
      timeout: 5,
      bindAddress: '::1',
      attemptDelay: 0.25,
    }),
    new HostnameEndpoint(reactor, 'b\u00fccher.ch', 443, { tls: true }),
    clientFromString(reactor, 'ssl:example.com:443'),
    clientFromString(
      reactor,
      `ssl:example.com:443:certKey=${q(COMBINED_FILE)}:caCertsDir=${q(CAS_DIR)}:hostname=localhost:timeout=4:bindAddress=127.0.0.1`,
    ),
    clientFromString(
      reactor,
      `ssl:example.com:443:certKey=${q(CERT_FILE)}:privateKey=${q(KEY_FILE)}`,
    ),
    clientFromString(
      reactor,
      `tls:localhost:443:trustRoots=${q(CAS_DIR)}:certificate=${q(CERT_FILE)}:privateKey=${q(KEY_FILE)}:attemptDelay=1`,
    ),
  ];
  for (const endpoint of clients) {
    test(`clientFromString reads '${endpoint}' back into an equal ${endpoint.constructor.name}`, () => {
      const description = String(endpoint);
      const again = clientFromString(reactor, description);
      assert.equal(again.constructor, endpoint.constructor);
      assert.equal(String(again), description);
      const settings = (e: IStreamClientEndpoint): unknown =>
        e instanceof SSL4ClientEndpoint
          ? e.sslContextFactory
          : e instanceof HostnameEndpoint
            ? e.tls
            : undefined;
      const fields = (e: IStreamClientEndpoint): Record<string, unknown> => ({
        ...e,
        sslContextFactory: undefined,
        tls: undefined,
      });
      assert.deepEqual(fields(again), fields(endpoint));
      const [a, b] = [settings(again), settings(endpoint)];
      // A function (checkServerIdentity) is made afresh each time: compare what it is.
      assert.deepEqual(
        JSON.stringify(a, (_k, v: unknown) => (typeof v === 'function' ? 'function' : v)),
        JSON.stringify(b, (_k, v: unknown) => (typeof v === 'function' ? 'function' : v)),
      );
    });
  }

  test('an SSL endpoint whose settings were given in code describes itself, but not as a description', () => {
    const serverEndpoint = new SSL4ServerEndpoint(reactor, 443, { key: KEY, cert: CERT });
    assert.equal(
      String(serverEndpoint),
      '<SSL4ServerEndpoint 443 with TLS settings given in code>',
    );
    assert.throws(() => serverFromString(reactor, String(serverEndpoint)), EndpointStringError);
    const clientEndpoint = new SSL4ClientEndpoint(reactor, 'example.com', 443, { ca: CERT });
    assert.equal(
      String(clientEndpoint),
      '<SSL4ClientEndpoint example.com:443 with TLS settings given in code>',
    );
    assert.throws(() => clientFromString(reactor, String(clientEndpoint)), EndpointStringError);
    const hostnameEndpoint = new HostnameEndpoint(reactor, '::1', 443, { tls: { ca: CERT } });
    assert.equal(
      String(hostnameEndpoint),
      '<HostnameEndpoint [::1]:443 with TLS settings given in code>',
    );
  });
});
