// A line-based chat server: each client picks a name, then every line it
// sends goes to everyone else. The protocol is a small state machine whose
// states are handled by methods named after them (handle_GETNAME,
// handle_CHAT), found by name, as Twisted finds `render_GET` or
// `proto_<state>`. Shared state (who is connected) lives on the factory.
//
// Run it: npm run build && node dist/examples/chat-server.js [port]   (default 8123)
// Try it: nc -C 127.0.0.1 8123 (in two terminals; -C ends lines with CRLF, as
// LineReceiver expects)

import type { IAddress } from 'torsion/protocol';
import { Factory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort, IReactorTCP } from 'torsion/reactor';

type State = 'GETNAME' | 'CHAT';

/** One chat client's connection. */
export class Chat extends LineReceiver {
  name: string | undefined;
  state: State = 'GETNAME';

  constructor(readonly users: Map<string, Chat>) {
    super();
  }

  override connectionMade(): void {
    this.sendLine("What's your name?");
  }

  override connectionLost(): void {
    if (this.name !== undefined && this.users.get(this.name) === this) this.users.delete(this.name);
  }

  override lineReceived(line: Buffer): void {
    // Dispatch on the state by name: handle_GETNAME or handle_CHAT.
    this[`handle_${this.state}`](line.toString('utf8'));
  }

  handle_GETNAME(name: string): void {
    if (name === '' || this.users.has(name)) {
      this.sendLine('Name taken, please choose another.');
      return;
    }
    this.sendLine(`Welcome, ${name}!`);
    this.name = name;
    this.users.set(name, this);
    this.state = 'CHAT';
  }

  handle_CHAT(message: string): void {
    const line = `<${this.name}> ${message}`;
    for (const user of this.users.values()) if (user !== this) user.sendLine(line);
  }
}

/** Makes a Chat per connection, all sharing one map of users. */
export class ChatFactory extends Factory<Chat> {
  readonly users = new Map<string, Chat>();

  override buildProtocol(_addr: IAddress): Chat {
    const chat = new Chat(this.users);
    chat.factory = this;
    return chat;
  }
}

/** Starts the chat server. */
export function main(reactor: IReactorTCP, port = 8123, iface?: string): IListeningPort {
  return reactor.listenTCP(
    port,
    new ChatFactory(),
    iface === undefined ? {} : { interface: iface },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = main(reactor, Number(process.argv[2] ?? 8123));
  console.log(`chat server on ${String(port.getHost())}`);
  await reactor.run();
}
