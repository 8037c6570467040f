// What the benchmarks that start servers as child processes share: the set
// of children, each in its own process group, ended on exit or on a signal;
// a free loopback port; and whether a port accepts connections yet.

import type { ChildProcess } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';

const HOST = '127.0.0.1';

/** The children still running; each is sent SIGTERM (its whole group) when this process ends. */
export const running = new Set<ChildProcess>();

function stopAll(): void {
  for (const child of running) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
  }
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(1);
  });
}

/** A port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, HOST);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether 127.0.0.1:`port` accepts a connection now. */
export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
