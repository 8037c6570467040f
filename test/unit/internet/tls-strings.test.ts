// The ssl: server strings' dhParameters and sslmethod (Twisted's _parseSSL):
// what they set in the TLS settings, that they describe themselves back,
// and the errors naming the option and the file. Their effect on a real
// handshake is tested in test/integration/tls-strings.test.ts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  EndpointStringError,
  quoteStringArgument as q,
  SSL4ServerEndpoint,
  serverFromString,
} from 'torsion/endpoints';
import { MemoryReactorClock } from 'torsion/testing';
import { CERT_FILE, COMBINED_FILE, TLS_DIR } from '../../helpers/tls.js';

const reactor = new MemoryReactorClock();
const DH_FILE = `${TLS_DIR}dh2048.pem`;

function ssl(options: string): SSL4ServerEndpoint {
  const endpoint = serverFromString(reactor, `ssl:443:privateKey=${q(COMBINED_FILE)}${options}`);
  assert.ok(endpoint instanceof SSL4ServerEndpoint);
  return endpoint;
}

/** Asserts that `options` is refused with an EndpointStringError on `segment` matching `message`. */
function refused(options: string, segment: string, message: RegExp): void {
  assert.throws(
    () => ssl(options),
    (error: unknown) => {
      assert.ok(error instanceof EndpointStringError, String(error));
      assert.equal(error.segment, segment);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('ssl: dhParameters', () => {
  test("reads the file into Node's dhparam and describes itself with it", () => {
    const endpoint = ssl(`:dhParameters=${q(DH_FILE)}`);
    assert.equal(endpoint.sslContextFactory.dhparam, readFileSync(DH_FILE, 'utf8'));
    const description = String(endpoint);
    assert.match(description, /:dhParameters=/);
    const again = serverFromString(reactor, description) as SSL4ServerEndpoint;
    assert.equal(String(again), description);
    assert.equal(again.sslContextFactory.dhparam, endpoint.sslContextFactory.dhparam);
  });

  test('a file it cannot read: the error names the option and the file', () => {
    refused(
      ':dhParameters=/nonexistent/dh.pem',
      'dhParameters=/nonexistent/dh.pem',
      /cannot read dhParameters file '\/nonexistent\/dh\.pem'/,
    );
  });

  test('a file without PEM DH parameters (a certificate) is refused, naming it', () => {
    refused(
      `:dhParameters=${q(CERT_FILE)}`,
      `dhParameters=${q(CERT_FILE)}`,
      /the file '.*localhost\.pem' holds no PEM Diffie-Hellman parameters .*openssl dhparam/,
    );
  });
});

describe('ssl: sslmethod', () => {
  test('TLSv1_2_METHOD allows TLS 1.2 only; TLS_METHOD and SSLv23_METHOD keep the defaults', () => {
    const only12 = ssl(':sslmethod=TLSv1_2_METHOD').sslContextFactory;
    assert.equal(only12.minVersion, 'TLSv1.2');
    assert.equal(only12.maxVersion, 'TLSv1.2');
    for (const method of ['TLS_METHOD', 'SSLv23_METHOD']) {
      const settings = ssl(`:sslmethod=${method}`).sslContextFactory;
      assert.equal(settings.minVersion, undefined);
      assert.equal(settings.maxVersion, undefined);
    }
  });

  test('describes itself with it', () => {
    const endpoint = ssl(':sslmethod=TLSv1_2_METHOD');
    const description = String(endpoint);
    assert.match(description, /:sslmethod=TLSv1_2_METHOD/);
    assert.equal(String(serverFromString(reactor, description)), description);
  });

  test('SSL 2 and 3 are refused, saying why', () => {
    refused(
      ':sslmethod=SSLv3_METHOD',
      'sslmethod=SSLv3_METHOD',
      /SSLv3_METHOD is refused: SSL 2 and 3 are broken/,
    );
    refused(':sslmethod=SSLv2_METHOD', 'sslmethod=SSLv2_METHOD', /SSL 2 and 3 are broken/);
  });

  test('TLS 1.0 and 1.1 are refused, saying why', () => {
    refused(
      ':sslmethod=TLSv1_METHOD',
      'sslmethod=TLSv1_METHOD',
      /TLS 1\.0 and 1\.1 are deprecated/,
    );
    refused(':sslmethod=TLSv1_1_METHOD', 'sslmethod=TLSv1_1_METHOD', /RFC 8996/);
  });

  test('an unknown method is refused, naming the known ones', () => {
    refused(
      ':sslmethod=TLSv9',
      'sslmethod=TLSv9',
      /unknown sslmethod 'TLSv9' \(known: .*TLSv1_2_METHOD\)/,
    );
  });
});
