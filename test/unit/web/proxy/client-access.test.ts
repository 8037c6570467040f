// ClientAccess: loopback always, the given ranges only, a per-client cap;
// and the runner's test of whether an endpoint string listens on loopback.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address, IPv6Address, UNIXAddress } from '../../../../src/internet/address.js';
import { listensOnLoopback } from '../../../../src/runner/_listen.js';
import { ClientAccess } from '../../../../src/web/proxy/client-access.js';

const v4 = (host: string) => new IPv4Address('TCP', host, 40000);
const v6 = (host: string) => new IPv6Address('TCP', host, 40000);

describe('ClientAccess', () => {
  test('loopback clients only by default, IPv4, IPv6 and IPv4-mapped', () => {
    const access = new ClientAccess();
    for (const host of ['127.0.0.1', '127.1.2.3'])
      assert.equal(access.allows(v4(host)), true, host);
    for (const host of ['::1', '::ffff:127.0.0.1'])
      assert.equal(access.allows(v6(host)), true, host);
    for (const host of ['10.0.0.1', '192.168.1.1', '0.0.0.0'])
      assert.equal(access.allows(v4(host)), false, host);
    for (const host of ['fe80::1', '::ffff:10.0.0.1', '::2'])
      assert.equal(access.allows(v6(host)), false, host);
  });

  test('given ranges are allowed as well, with or without a prefix length', () => {
    const access = new ClientAccess({ allow: ['192.168.1.0/24', '10.0.0.7', 'fd00::/8'] });
    assert.equal(access.allows(v4('192.168.1.200')), true);
    assert.equal(access.allows(v4('192.168.2.1')), false);
    assert.equal(access.allows(v4('10.0.0.7')), true);
    assert.equal(access.allows(v4('10.0.0.8')), false);
    assert.equal(access.allows(v6('fd12::5')), true);
    assert.equal(access.allows(v6('::ffff:192.168.1.9')), true);
    assert.equal(access.allows(v4('127.0.0.1')), true, 'loopback stays allowed');
  });

  test('a UNIX socket client is local and allowed', () => {
    assert.equal(new ClientAccess().allows(new UNIXAddress('/tmp/s')), true);
  });

  test('a bad range is refused with its text and the reason', () => {
    assert.throws(() => new ClientAccess({ allow: ['example.com/24'] }), {
      name: 'TypeError',
      message: 'client range "example.com/24": "example.com" is not an IP address',
    });
    assert.throws(() => new ClientAccess({ allow: ['10.0.0.0/33'] }), {
      message: 'client range "10.0.0.0/33": the prefix length must be 0 to 32, not "33"',
    });
    assert.throws(() => new ClientAccess({ allow: ['fd00::/x'] }), /must be 0 to 128, not "x"/);
    assert.throws(
      () => new ClientAccess({ maxConnectionsPerClient: 0 }),
      /positive integer or null/,
    );
  });

  test('admit counts connections per client address up to the cap; release frees one', () => {
    const access = new ClientAccess({ maxConnectionsPerClient: 2 });
    const client = v4('127.0.0.1');
    assert.equal(access.admit(client), 'ok');
    assert.equal(access.admit(new IPv4Address('TCP', '127.0.0.1', 40001)), 'ok');
    assert.equal(access.admit(client), 'too-many');
    assert.equal(access.admit(v4('127.0.0.2')), 'ok', 'another address has its own count');
    assert.equal(access.openConnections('127.0.0.1'), 2);
    access.release(client);
    assert.equal(access.admit(client), 'ok');
    assert.equal(access.admit(v4('10.1.1.1')), 'forbidden');
    assert.equal(access.openConnections('10.1.1.1'), 0, 'a refused client is not counted');
    access.release(client);
    access.release(client);
    access.release(client);
    assert.equal(access.openConnections('127.0.0.1'), 0, 'never below zero');
  });

  test('no cap with null', () => {
    const access = new ClientAccess({ maxConnectionsPerClient: null });
    for (let i = 0; i < 1000; i++) assert.equal(access.admit(v4('127.0.0.1')), 'ok');
  });
});

describe('listensOnLoopback', () => {
  test('loopback interfaces and UNIX sockets are; every interface and other addresses are not', () => {
    const cases: Array<[string, boolean]> = [
      ['tcp:8080:interface=127.0.0.1', true],
      ['tcp:8080:interface=127.9.9.9', true],
      ['tcp6:8080:interface=\\:\\:1', true],
      ['tcp:8080:interface=localhost', true],
      ['unix:/tmp/proxy.sock', true],
      ['tcp:8080', false],
      ['tcp:8080:interface=0.0.0.0', false],
      ['tcp:8080:interface=192.168.1.5', false],
      ['tcp6:8080', false],
    ];
    for (const [description, loopback] of cases) {
      assert.equal(listensOnLoopback(description), loopback, description);
    }
  });
});
