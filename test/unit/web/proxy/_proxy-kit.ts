// Test support for the forward proxy: a Proxy on a MemoryReactorClock, a
// client connection to it on a StringTransport, and upstream servers that
// listen on the same reactor (a recording protocol, or a real Site) whose
// connections a ConnectionCompleter completes in memory.

import { isIP } from 'node:net';
import { IPv4Address } from '../../../../src/internet/address.js';
import { type Deferred, succeed } from '../../../../src/internet/defer.js';
import type { IAddress, ITCPTransport } from '../../../../src/internet/interfaces.js';
import { Factory, Protocol } from '../../../../src/internet/protocol.js';
import type { IOPump } from '../../../../src/testing/iosim.js';
import { ConnectionCompleter } from '../../../../src/testing/iosim.js';
import { MemoryReactorClock } from '../../../../src/testing/memory-reactor.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import type { HTTPChannel } from '../../../../src/web/channel.js';
import { Proxy as ForwardProxy, type ProxyOptions } from '../../../../src/web/proxy/proxy.js';
import { parseReplies, type Reply } from '../_server.js';

/** A server protocol that records what it receives and answers as told. */
export class Recorder extends Protocol<ITCPTransport> {
  received = Buffer.alloc(0);
  readEnded = false;
  lost = false;
  /** Called with each chunk received. */
  onData: ((recorder: Recorder) => void) | undefined;

  override dataReceived(data: Uint8Array): void {
    this.received = Buffer.concat([this.received, data]);
    this.onData?.(this);
  }

  readConnectionLost(): void {
    this.readEnded = true;
  }

  writeConnectionLost(): void {}

  override connectionLost(): void {
    this.lost = true;
  }

  /** What was received, latin1. */
  text(): string {
    return this.received.toString('latin1');
  }
}

export interface Upstream {
  /** The protocols of the connections accepted, in order. */
  readonly accepted: Recorder[];
}

/** Listens on `port` of `reactor` with recording protocols. */
export function listenRecorder(reactor: MemoryReactorClock, port: number): Upstream {
  const accepted: Recorder[] = [];
  const factory = new Factory<Recorder>();
  factory.noisy = false;
  factory.buildProtocol = () => {
    const recorder = new Recorder();
    accepted.push(recorder);
    return recorder;
  };
  reactor.listenTCP(port, factory);
  return { accepted };
}

export interface ProxyClient {
  readonly transport: StringTransportWithDisconnection<IPv4Address>;
  readonly channel: HTTPChannel;
  /** Sends bytes (latin1 for a string) to the proxy. */
  send(data: string | Buffer): void;
  /** What the proxy wrote, latin1. */
  output(): string;
  /** The responses written so far, parsed. */
  replies(methods?: readonly string[]): Reply[];
}

export interface Kit {
  readonly reactor: MemoryReactorClock;
  readonly proxy: ForwardProxy;
  readonly completer: ConnectionCompleter;
  /** A new client connection to the proxy (the proxy listens on 192.0.2.1:8080), from `peerHost` (default 192.0.2.7). */
  client(peerHost?: string): ProxyClient;
  /** Completes the first pending upstream connection; throws when there is none. */
  connectUpstream(): IOPump;
}

/** A Proxy on a MemoryReactorClock (start 1000 s), `via` fixed to `test-proxy`. */
export function proxyKit<P extends ForwardProxy = ForwardProxy>(
  options: Partial<ProxyOptions> = {},
  make: (options: ProxyOptions) => P = (o) => new ForwardProxy(o) as P,
): Kit & { readonly proxy: P } {
  const reactor = new MemoryReactorClock(1000);
  // Names resolve through the reactor's `hosts` table (the endpoints ask a reactor that resolves).
  Object.assign(reactor, {
    resolveHostName(name: string): Deferred<IAddress[]> {
      const address = isIP(name) !== 0 ? name : reactor.hosts.get(name);
      return succeed(address === undefined ? [] : [new IPv4Address('TCP', address, 0)]);
    },
  });
  const proxy = make({ via: 'test-proxy', ...options, reactor });
  proxy.noisy = false;
  const completer = new ConnectionCompleter(reactor);
  let clientPort = 40000;
  return {
    reactor,
    proxy,
    completer,
    client(peerHost = '192.0.2.7') {
      const transport = new StringTransportWithDisconnection<IPv4Address>({
        peerAddress: new IPv4Address('TCP', peerHost, clientPort++),
        hostAddress: new IPv4Address('TCP', '192.0.2.1', 8080),
        lenient: true,
      });
      const channel = proxy.buildProtocol(transport.getPeer());
      transport.protocol = channel;
      channel.makeConnection(transport);
      return {
        transport,
        channel,
        send(data) {
          channel.dataReceived(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
        },
        output() {
          return transport.value().toString('latin1');
        },
        replies(methods = []) {
          return parseReplies(transport.value(), methods);
        },
      };
    },
    connectUpstream() {
      // The endpoint connects on the reactor's next turn.
      reactor.advance(0);
      const pump = completer.succeedOnce();
      if (pump === undefined) throw new Error('no pending upstream connection to complete');
      pump.flush();
      reactor.advance(0);
      pump.flush();
      return pump;
    },
  };
}
