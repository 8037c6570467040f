// Addresses of the ends of connections (Twisted: twisted.internet.address).
// Tests: test/unit/internet/address.test.ts

import type { IAddress, IIPAddress } from './interfaces.js';

/** The transport an IP address belongs to. */
export type IPTransportType = 'TCP' | 'UDP';

/**
 * An IPv4 address and port: `new IPv4Address('TCP', '127.0.0.1', 8080)`.
 *
 * @see Twisted: twisted.internet.address.IPv4Address
 * @since 0.1.0
 */
export class IPv4Address implements IIPAddress {
  /**
   * @param type - `'TCP'` or `'UDP'`.
   * @param host - The IP address, dotted quad.
   * @param port - The port number.
   */
  constructor(
    readonly type: IPTransportType,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Whether `other` is the same kind of address with the same fields. */
  equals(other: unknown): boolean {
    return (
      other instanceof IPv4Address &&
      other.type === this.type &&
      other.host === this.host &&
      other.port === this.port
    );
  }

  /** `IPv4Address(TCP, '127.0.0.1', 8080)`, as Twisted's repr. */
  toString(): string {
    return `IPv4Address(${this.type}, '${this.host}', ${this.port})`;
  }
}

/**
 * An IPv6 address and port, with its flow label and scope.
 *
 * @see Twisted: twisted.internet.address.IPv6Address
 * @since 0.1.0
 */
export class IPv6Address implements IIPAddress {
  /**
   * @param type - `'TCP'` or `'UDP'`.
   * @param host - The IP address, such as `'::1'` (with a `%scope` for link-local ones).
   * @param port - The port number.
   * @param flowInfo - The flow label. Default 0.
   * @param scopeID - The scope (interface). Default 0.
   */
  constructor(
    readonly type: IPTransportType,
    readonly host: string,
    readonly port: number,
    readonly flowInfo = 0,
    readonly scopeID: number | string = 0,
  ) {}

  /** Whether `other` is the same kind of address with the same fields. */
  equals(other: unknown): boolean {
    return (
      other instanceof IPv6Address &&
      other.type === this.type &&
      other.host === this.host &&
      other.port === this.port &&
      other.flowInfo === this.flowInfo &&
      other.scopeID === this.scopeID
    );
  }

  /** `IPv6Address(TCP, '::1', 8080)`. */
  toString(): string {
    return `IPv6Address(${this.type}, '${this.host}', ${this.port})`;
  }
}

/**
 * The address of either end of a TCP connection, or of a TCP port: an
 * `IPv4Address` or an `IPv6Address` (narrow with `instanceof`).
 *
 * @since 0.1.0
 */
export type IPAddress = IPv4Address | IPv6Address;

/**
 * The path of a UNIX-domain socket; `name` is `null` for an unnamed socket
 * (a client's end, usually).
 *
 * @see Twisted: twisted.internet.address.UNIXAddress
 * @since 0.1.0
 */
export class UNIXAddress implements IAddress {
  /**
   * @param name - The socket's path, or `null` if it has none.
   */
  constructor(readonly name: string | null) {}

  /** Whether `other` is a UNIX address with the same path. */
  equals(other: unknown): boolean {
    return other instanceof UNIXAddress && other.name === this.name;
  }

  /** `UNIXAddress('/tmp/sock')`. */
  toString(): string {
    return `UNIXAddress(${this.name === null ? 'null' : `'${this.name}'`})`;
  }
}

/**
 * A host name and port, before it is resolved: where a `HostnameEndpoint`
 * connects to.
 *
 * @see Twisted: twisted.internet.address.HostnameAddress
 * @since 0.1.0
 */
export class HostnameAddress implements IAddress {
  /**
   * @param hostname - The host name.
   * @param port - The port number.
   */
  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {}

  /** Whether `other` is a host name address with the same fields. */
  equals(other: unknown): boolean {
    return (
      other instanceof HostnameAddress &&
      other.hostname === this.hostname &&
      other.port === this.port
    );
  }

  /** `HostnameAddress('example.com', 80)`. */
  toString(): string {
    return `HostnameAddress('${this.hostname}', ${this.port})`;
  }
}
