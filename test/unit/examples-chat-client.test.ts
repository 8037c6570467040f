// The chat client example's two protocols, without sockets or a terminal:
// the connection on a StringTransport, the terminal a StandardIO over
// PassThrough streams, the reactor a MemoryReactorClock.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { MemoryReactorClock, StringTransport, successResultOf } from 'torsion/testing';
import { ChatClient, main } from '../../examples/chat-client.js';

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function session(): {
  client: ChatClient;
  server: StringTransport;
  stdin: PassThrough;
  stdout: PassThrough;
  printed: () => string;
} {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const client = new ChatClient(new MemoryReactorClock(), { stdin, stdout });
  const server = new StringTransport();
  client.makeConnection(server);
  return {
    client,
    server,
    stdin,
    stdout,
    printed: () => Buffer.concat(chunks).toString('utf8'),
  };
}

test('typed lines go to the server with CRLF; server lines are printed with LF', async () => {
  const { client, server, stdin, stdout, printed } = session();
  client.dataReceived(Buffer.from("What's your name?\r\n"));
  stdin.write('alice\nhello\r\n');
  await turn();
  assert.equal(server.value().toString(), 'alice\r\nhello\r\n', 'a CR typed before LF is dropped');
  client.dataReceived(Buffer.from('<bob> hi\r\n'));
  assert.equal(printed(), "What's your name?\n<bob> hi\n");
  stdin.end();
  await once(stdout, 'finish');
});

test('/quit hangs up and is not sent; the session ends once the connection is closed too', async () => {
  const { client, server, stdin, stdout } = session();
  stdin.write('/quit\n');
  await once(stdout, 'finish');
  await turn();
  assert.equal(server.value().length, 0);
  assert.equal(server.disconnecting, true, 'the connection is being closed');
  assert.equal(client.done.called, false);
  client.connectionLost();
  assert.equal(successResultOf(client.done), undefined);
});

test('the server hanging up stops reading the terminal, after printing what came', async () => {
  const { client, stdin, stdout, printed } = session();
  client.dataReceived(Buffer.from('bye\r\n'));
  client.connectionLost();
  await once(stdout, 'finish');
  await turn();
  assert.equal(printed(), 'bye\n');
  assert.equal(stdin.listenerCount('data'), 0);
  assert.equal(successResultOf(client.done), undefined);
});

test('main connects through an endpoint description, escaping the colons of an IPv6 host', () => {
  const reactor = new MemoryReactorClock();
  const stdio = { stdin: new PassThrough(), stdout: new PassThrough() };
  main(reactor, { host: '::1', port: 8123, ...stdio });
  main(reactor, stdio);
  assert.deepEqual(
    reactor.tcpClients.map(([host, port]) => [host, port]),
    [
      ['::1', 8123],
      ['127.0.0.1', 8123],
    ],
  );
});
