// Benchmark: requests per second through Torsion's HTTP server code alone,
// with no socket: a Site's HTTPChannel on a transport that drops what is
// written, fed one GET per call on one keep-alive connection, answered by a
// leaf Resource (the hello server's, bench/http-hello-torsion.ts). It measures
// what the server does per request in JavaScript (parser, Request, Headers,
// Site, timers, response head), without the kernel and without wrk, so it
// moves much less than the wrk figures on a shared machine: the before/after
// measure for changes to the request path.
// Usage: node dist/bench/http-channel.js [REQUESTS] [CONNECTIONS]
// The requests are spread round-robin over CONNECTIONS channels (default
// 100, as `wrk -c100`: each has its idle timer in the clock's queue).
// Prints one JSON line: requests_per_s, ns_per_request, cpu_s.

import type { IAddress, IPAddress, ITCPTransport } from 'torsion';
import { IPv4Address } from 'torsion';
import { type HTTPChannel, Site } from 'torsion/web';
import { realTimeClock } from '../src/internet/task/_real-time-clock.js';
import { Hello } from './http-hello-torsion.js';

/** A GET as wrk sends it. */
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n', 'latin1');
const RESPONSE_START = 'HTTP/1.1 200 '.length;

const peer = new IPv4Address('TCP', '127.0.0.1', 40000);
const host = new IPv4Address('TCP', '127.0.0.1', 8080);

let written = 0;
let lastChunk: Uint8Array | undefined;

/** The parts of a TCP transport a channel uses; what is written is counted and dropped. */
function nullTransport(): ITCPTransport<IPAddress> {
  const transport = {
    write(data: Uint8Array): void {
      written += data.length;
      lastChunk = data;
    },
    writeSequence(data: Iterable<Uint8Array>): void {
      for (const chunk of data) transport.write(chunk);
    },
    loseConnection(): void {},
    abortConnection(): void {},
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
  return transport as unknown as ITCPTransport<IPAddress>;
}

function run(channels: HTTPChannel[], n: number): void {
  const count = channels.length;
  for (let i = 0; i < n; i++) (channels[i % count] as HTTPChannel).dataReceived(REQUEST);
}

const n = Number(process.argv[2] ?? 1_000_000);
const conns = Number(process.argv[3] ?? 100);
const site = new Site(new Hello(), { clock: realTimeClock() });
site.noisy = false;
const channels = Array.from({ length: conns }, () => {
  const channel = site.buildProtocol(peer);
  channel.makeConnection(nullTransport());
  return channel;
});

run(channels, Math.min(n, 100_000)); // warm-up
written = 0;
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
run(channels, n);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
const head = Buffer.from(lastChunk ?? []).toString('latin1', 0, RESPONSE_START);
if (head !== 'HTTP/1.1 200 ') throw new Error(`not a 200: ${head}`);
for (const channel of channels) channel.transport.loseConnection();
console.log(
  JSON.stringify({
    requests: n,
    connections: conns,
    requests_per_s: Math.round(n / seconds),
    ns_per_request: Math.round((seconds * 1e9) / n),
    cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    bytes_per_response: Math.round(written / n),
  }),
);
