// The addresses of connection ends: equality by kind and fields, and the
// text forms that log lines show (as Twisted's reprs).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HostnameAddress,
  IPv4Address,
  IPv6Address,
  UNIXAddress,
} from '../../../src/internet/address.js';

describe('IPv4Address', () => {
  test('equals an address of the same type, host and port, and nothing else', () => {
    const a = new IPv4Address('TCP', '127.0.0.1', 8080);
    assert.ok(a.equals(new IPv4Address('TCP', '127.0.0.1', 8080)));
    assert.ok(!a.equals(new IPv4Address('UDP', '127.0.0.1', 8080)));
    assert.ok(!a.equals(new IPv4Address('TCP', '127.0.0.2', 8080)));
    assert.ok(!a.equals(new IPv4Address('TCP', '127.0.0.1', 8081)));
    assert.ok(!a.equals(new IPv6Address('TCP', '127.0.0.1', 8080)));
    assert.ok(!a.equals({ type: 'TCP', host: '127.0.0.1', port: 8080 }));
  });

  test('reads as Twisted prints it', () => {
    assert.equal(
      String(new IPv4Address('TCP', '127.0.0.1', 8080)),
      "IPv4Address(TCP, '127.0.0.1', 8080)",
    );
  });
});

describe('IPv6Address', () => {
  test('defaults flow info and scope to 0, and compares every field', () => {
    const a = new IPv6Address('TCP', '::1', 80);
    assert.equal(a.flowInfo, 0);
    assert.equal(a.scopeID, 0);
    assert.ok(a.equals(new IPv6Address('TCP', '::1', 80, 0, 0)));
    assert.ok(!a.equals(new IPv6Address('TCP', '::1', 80, 1, 0)));
    assert.ok(!a.equals(new IPv6Address('TCP', '::1', 80, 0, 'eth0')));
    assert.ok(!a.equals(new IPv6Address('UDP', '::1', 80)));
    assert.ok(!a.equals(new IPv4Address('TCP', '::1', 80)));
  });

  test('reads as Twisted prints it', () => {
    assert.equal(String(new IPv6Address('TCP', '::1', 8080)), "IPv6Address(TCP, '::1', 8080)");
  });
});

describe('UNIXAddress', () => {
  test('equals an address with the same path, including none', () => {
    assert.ok(new UNIXAddress('/tmp/s').equals(new UNIXAddress('/tmp/s')));
    assert.ok(!new UNIXAddress('/tmp/s').equals(new UNIXAddress('/tmp/t')));
    assert.ok(new UNIXAddress(null).equals(new UNIXAddress(null)));
    assert.ok(!new UNIXAddress(null).equals(new UNIXAddress('')));
  });

  test('reads with its path quoted, or null', () => {
    assert.equal(String(new UNIXAddress('/tmp/s')), "UNIXAddress('/tmp/s')");
    assert.equal(String(new UNIXAddress(null)), 'UNIXAddress(null)');
  });
});

describe('HostnameAddress', () => {
  test('equals an address with the same host name and port', () => {
    const a = new HostnameAddress('example.com', 80);
    assert.ok(a.equals(new HostnameAddress('example.com', 80)));
    assert.ok(!a.equals(new HostnameAddress('example.org', 80)));
    assert.ok(!a.equals(new HostnameAddress('example.com', 443)));
    assert.equal(String(a), "HostnameAddress('example.com', 80)");
  });
});
