// URI: an http or https URL split into what an HTTP client needs: the
// scheme, host, port, the request-target and the Host header
// (Twisted: twisted.web.client.URI).
// Tests: test/unit/web/client-uri.test.ts

import { TorsionError } from '../../internet/error.js';

/**
 * A URL the HTTP client cannot fetch: unparsable, a scheme other than
 * `http:` or `https:`, or credentials in it.
 *
 * @see Twisted: twisted.web.error.SchemeNotSupported
 * @since 0.1.0
 */
export class InvalidURIError extends TorsionError {
  override name = 'InvalidURIError';
  override readonly code: string = 'ERR_INVALID_URI';
  /** The URL as given. */
  readonly uri: string;
  constructor(uri: string, reason: string) {
    super(`cannot fetch ${JSON.stringify(uri)}: ${reason}`);
    this.uri = uri;
  }
}

const DEFAULT_PORTS = { 'http:': 80, 'https:': 443 } as const;

/**
 * An absolute `http:` or `https:` URL, parsed (by WHATWG rules, as Node's
 * `URL`) into the parts an HTTP client uses.
 *
 * @remarks
 * Parsing normalizes: the host is lowercased (IPv6 literals keep their
 * brackets in {@link URI.hostHeader} and lose them in {@link URI.host}),
 * characters a request-target cannot carry are percent-encoded, and the
 * fragment is dropped (it never goes to the server). User names and
 * passwords in a URL are refused rather than sent in clear: give an
 * `Authorization` header instead.
 *
 * @example
 * ```ts
 * const uri = URI.fromString('https://example.com/a b?q=1#top');
 * uri.host;        // 'example.com'
 * uri.port;        // 443
 * uri.originForm;  // '/a%20b?q=1'
 * ```
 *
 * @see Twisted: twisted.web.client.URI
 * @since 0.1.0
 */
export class URI {
  /** `'http'` or `'https'`. */
  readonly scheme: 'http' | 'https';
  /** The host name or IP address, IPv6 without brackets. */
  readonly host: string;
  /** The port, the scheme's default if the URL names none. */
  readonly port: number;
  /** The path, percent-encoded; `/` at least. */
  readonly path: string;
  /** The query with its `?`, or `''`. */
  readonly query: string;

  private constructor(
    scheme: 'http' | 'https',
    host: string,
    port: number,
    path: string,
    query: string,
  ) {
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.path = path;
    this.query = query;
  }

  /**
   * Parses an absolute URL.
   *
   * @throws InvalidURIError if it is not an absolute `http:` or `https:` URL
   *   without credentials.
   */
  static fromString(uri: string): URI {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new InvalidURIError(uri, 'not an absolute URL');
    }
    return URI.fromURL(url, uri);
  }

  /**
   * Takes a parsed `URL`.
   *
   * @param given - The text to name in errors. Default: the URL's `href`.
   * @throws InvalidURIError as {@link URI.fromString}.
   */
  static fromURL(url: URL, given: string = url.href): URI {
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new InvalidURIError(
        given,
        `the scheme ${protocol} is not supported (only http: and https:)`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw new InvalidURIError(
        given,
        'credentials in a URL are not sent; give an Authorization header instead',
      );
    }
    if (url.hostname === '') throw new InvalidURIError(given, 'no host');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? DEFAULT_PORTS[protocol] : Number(url.port);
    return new URI(
      protocol.slice(0, -1) as 'http' | 'https',
      host,
      port,
      url.pathname || '/',
      url.search,
    );
  }

  /**
   * Resolves `reference` (a `Location`, say) against this URI.
   *
   * @throws InvalidURIError if the result is not an http or https URL.
   */
  resolve(reference: string): URI {
    let url: URL;
    try {
      url = new URL(reference, this.toString());
    } catch {
      throw new InvalidURIError(reference, `not a URL relative to ${this.toString()}`);
    }
    return URI.fromURL(url, reference);
  }

  /** The request-target for a direct request: the path and the query. */
  get originForm(): string {
    return this.path + this.query;
  }

  /** The `Host` header's value: the host, and the port unless it is the scheme's default. */
  get hostHeader(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.port === DEFAULT_PORTS[`${this.scheme}:`] ? host : `${host}:${this.port}`;
  }

  /** The origin (`scheme://host:port`): what must match for a redirect to stay same-origin. */
  get origin(): string {
    return `${this.scheme}://${this.hostHeader}`;
  }

  /** The absolute URL (the request-target through a proxy). */
  toString(): string {
    return `${this.origin}${this.originForm}`;
  }
}
