// Benchmark: requests per second through Torsion's HTTP client code alone,
// with no socket: an Agent with an HTTPConnectionPool whose connections are
// in memory, each answering every request with the hello server's response
// (a microtask after the request is written). It measures what the client
// does per request in JavaScript (URL, headers, pool, request head, parser,
// Response, readBody, Deferreds), without the kernel and without a server,
// so it moves much less than the socket figures on a shared machine: the
// before/after measure for changes to the client's request path.
// Usage: node dist/bench/http-client-agent.js [REQUESTS] [CONCURRENCY]
// CONCURRENCY loops (default 50) each await a request and its body before
// sending the next. Prints one JSON line: requests_per_s, ns_per_request, cpu_s.

import type { IAddress, IProtocol, IProtocolFactory, IStreamClientEndpoint } from 'torsion';
import { ConnectionDone, IPv4Address } from 'torsion';
import { type Deferred, succeed } from 'torsion/defer';
import { reactor } from 'torsion/reactor';
import { Failure } from '../src/internet/failure.js';
import { Agent, type IAgentEndpointFactory } from '../src/web/client/agent.js';
import { HTTPConnectionPool } from '../src/web/client/pool.js';
import { readBody } from '../src/web/client/response.js';

/** The response of bench/http-client-server.ts to `GET /`, as node:http sends it. */
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n' +
    'Date: Thu, 03 Dec 2026 21:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n' +
    'Hello, World!\n',
  'latin1',
);

const peer = new IPv4Address('TCP', '127.0.0.1', 8080);
const host = new IPv4Address('TCP', '127.0.0.1', 40000);
let written = 0;

/** A connection in memory: each write is a request, answered on a microtask. */
function memoryTransport(protocol: IProtocol) {
  let open = true;
  const transport = {
    write(data: Uint8Array): void {
      written += data.length;
      queueMicrotask(() => {
        if (open) protocol.dataReceived(RESPONSE);
      });
    },
    writeSequence(data: Iterable<Uint8Array>): void {
      for (const chunk of data) transport.write(chunk);
    },
    loseConnection(): void {
      if (!open) return;
      open = false;
      queueMicrotask(() => protocol.connectionLost(new Failure(new ConnectionDone())));
    },
    abortConnection(): void {
      transport.loseConnection();
    },
    getPeer: (): IAddress => peer,
    getHost: (): IAddress => host,
    setTcpNoDelay(): void {},
    getTcpNoDelay: (): boolean => true,
    setTcpKeepAlive(): void {},
    getTcpKeepAlive: (): boolean => false,
    pauseProducing(): void {},
    resumeProducing(): void {},
    stopProducing(): void {},
    registerProducer(): void {},
    unregisterProducer(): void {},
  };
  return transport;
}

let connections = 0;
const endpoints: IAgentEndpointFactory = {
  endpointForURI(): IStreamClientEndpoint {
    return {
      connect<F extends IProtocolFactory>(factory: F) {
        connections++;
        const protocol = factory.buildProtocol(peer) as IProtocol;
        protocol.makeConnection(memoryTransport(protocol) as never);
        return succeed(protocol) as Deferred<never>;
      },
    };
  },
};

async function run(agent: Agent, n: number, concurrency: number): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next++ < n) {
      const response = await agent.request('GET', 'http://127.0.0.1:8080/');
      const body = await readBody(response);
      if (response.code !== 200 || body.length !== 14) throw new Error('not the hello response');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

const n = Number(process.argv[2] ?? 300_000);
const concurrency = Number(process.argv[3] ?? 50);
const pool = new HTTPConnectionPool(reactor, { maxPersistentPerHost: concurrency });
const agent = Agent.usingEndpointFactory(reactor, endpoints, { pool });

await run(agent, Math.min(n, 30_000), concurrency); // warm-up
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
await run(agent, n, concurrency);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
await pool.closeCachedConnections();
console.log(
  JSON.stringify({
    requests: n,
    concurrency,
    connections,
    requests_per_s: Math.round(n / seconds),
    ns_per_request: Math.round((seconds * 1e9) / n),
    cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    bytes_per_request: Math.round(written / (n + Math.min(n, 30_000))),
  }),
);
process.exit(0);
