// react hands main a reactor that can do networking: the example in react's
// documentation, run as a program, serves, and a signal ends it with 130.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('./fixtures/react-echo.js', import.meta.url));

test("react's documented echo server listens, echoes, and exits 130 on SIGINT", {
  timeout: 20_000,
}, async () => {
  const child = spawn(process.execPath, [program, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (text: string) => {
      output += text;
      const match = /echo server on IPv4Address\(TCP, '0\.0\.0\.0', (\d+)\)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`the program exited early: ${output}`)));
  });
  const socket = connect(port, '127.0.0.1');
  socket.write('hello');
  const [echoed] = (await once(socket, 'data')) as [Buffer];
  assert.equal(echoed.toString(), 'hello');
  socket.end();
  await once(socket, 'close');
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 130);
});
