// The test-only TLS key and self-signed certificate for localhost
// (test/fixtures/tls, see its README). Test-only; not exported.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The directory of the TLS fixtures (compiled tests run from dist/test/…). */
export const TLS_DIR = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));

/** The private key's file. */
export const KEY_FILE = `${TLS_DIR}localhost.key`;
/** The directory holding only the certificate: a CA directory that trusts it. */
export const CAS_DIR = `${TLS_DIR}cas`;
/** The certificate's file. */
export const CERT_FILE = `${CAS_DIR}/localhost.pem`;
/** The key and the certificate in one file. */
export const COMBINED_FILE = `${TLS_DIR}localhost-combined.pem`;

/** The private key, PEM. */
export const KEY = readFileSync(KEY_FILE, 'utf8');
/** The certificate, PEM. */
export const CERT = readFileSync(CERT_FILE, 'utf8');
