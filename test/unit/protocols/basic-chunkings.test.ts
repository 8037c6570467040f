// Chunk-boundary fuzzing of every framing receiver with forAllChunkings:
// LineReceiver (line and raw modes, the length limit), LineOnlyReceiver,
// NetstringReceiver (good and broken input), Int8/16/32StringReceiver and
// StatefulStringProtocol see the same events for every split of an input
// as for the whole input at once.

import { describe, test } from 'node:test';
import {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
  StatefulStringProtocol,
} from 'torsion/protocols/basic';
import { forAllChunkings, type StringTransport } from 'torsion/testing';
import { bytes } from '../../helpers/basic.js';

/** An event list in which consecutive raw chunks are merged (their cuts are the transport's). */
class Events {
  readonly list: string[] = [];

  add(kind: string, data: Uint8Array | string = ''): void {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    const last = this.list.at(-1);
    if (kind === 'raw' && last?.startsWith('raw:') === true) {
      this.list[this.list.length - 1] = `${last}${text}`;
      return;
    }
    this.list.push(`${kind}:${text}`);
  }
}

/** What a run left: the events, and whether the protocol closed the connection. */
function outcome(events: Events, transport: StringTransport): unknown {
  return { events: events.list, closing: transport.disconnecting };
}

/** Lines, and `RAW n` switches to raw mode for n bytes, then back to lines. */
class Switcher extends LineReceiver {
  readonly events = new Events();
  #rawLeft = 0;

  override lineReceived(line: Buffer): void {
    const text = line.toString('latin1');
    this.events.add('line', text);
    const match = /^RAW (\d+)$/.exec(text);
    if (match !== null) {
      this.#rawLeft = Number(match[1]);
      this.setRawMode();
    }
  }

  override rawDataReceived(data: Buffer): void {
    const take = Math.min(this.#rawLeft, data.length);
    this.events.add('raw', data.subarray(0, take));
    this.#rawLeft -= take;
    if (this.#rawLeft === 0) this.setLineMode(data.subarray(take));
  }

  override lineLengthExceeded(_line: Buffer): void {
    this.events.add('too long');
    this.transport.loseConnection();
  }
}

class Lines extends LineOnlyReceiver {
  readonly events = new Events();

  override lineReceived(line: Buffer): void {
    this.events.add('line', line);
  }

  override lineLengthExceeded(_line: Buffer): void {
    this.events.add('too long');
    this.transport.loseConnection();
  }
}

class Netstrings extends NetstringReceiver {
  readonly events = new Events();

  override stringReceived(string: Buffer): void {
    this.events.add('string', string);
  }
}

function intN<C extends new () => Int8StringReceiver | Int16StringReceiver | Int32StringReceiver>(
  base: C,
) {
  return class extends (base as new () => Int8StringReceiver) {
    readonly events = new Events();

    override stringReceived(string: Buffer): void {
      this.events.add('string', string);
    }

    override lengthLimitExceeded(length: number): void {
      this.events.add('too long', String(length));
      super.lengthLimitExceeded(length);
    }
  };
}

/** A login exchange over netstrings: user, password, then commands. */
class Login extends StatefulStringProtocol {
  readonly events = new Events();

  proto_init(user: Buffer): string {
    this.events.add('user', user);
    return 'password';
  }

  proto_password(password: Buffer): string {
    this.events.add('password', password);
    return 'command';
  }

  proto_command(command: Buffer): string | undefined {
    this.events.add('command', command);
    return command.toString('latin1') === 'bye' ? 'done' : undefined;
  }
}

function prefixed(width: number, ...strings: string[]): Buffer {
  return Buffer.concat(
    strings.map((s) => {
      const prefix = Buffer.alloc(width);
      prefix.writeUIntBE(s.length, 0, width);
      return Buffer.concat([prefix, bytes(s)]);
    }),
  );
}

type WithEvents = { readonly events: Events };
const observe = (p: WithEvents, t: StringTransport): unknown => outcome(p.events, t);

describe('LineReceiver under every split', () => {
  test('lines, empty lines and a trailing partial line (every split)', () => {
    forAllChunkings(() => new Switcher(), bytes('a\r\n\r\nbc\r\nd'), observe);
  });

  test('a delimiter split between its bytes, and a one-byte delimiter', () => {
    forAllChunkings(() => new Switcher(), bytes('\r\r\n\r\n\n\r\n'), observe);
    forAllChunkings(
      () => {
        const p = new Switcher();
        p.delimiter = bytes('\n');
        return p;
      },
      bytes('x\ny\n\nz'),
      observe,
    );
  });

  test('switching to raw mode and back mid-chunk', () => {
    forAllChunkings(() => new Switcher(), bytes('RAW 3\r\nabcRAW 0\r\nd\r\n'), observe, {
      count: 300,
    });
    forAllChunkings(() => new Switcher(), bytes('RAW 2\r\n\r\n\r\n'), observe);
  });

  test('the length limit: a line of exactly maxLength passes, one more byte is refused', () => {
    const make = (): Switcher => {
      const p = new Switcher();
      p.maxLength = 4;
      return p;
    };
    forAllChunkings(make, bytes('abcd\r\nef\r\n'), observe);
    forAllChunkings(make, bytes('ok\r\nabcde\r\nnever\r\n'), observe, { count: 300 });
  });
});

describe('LineOnlyReceiver under every split', () => {
  test('lines and a partial line', () => {
    forAllChunkings(() => new Lines(), bytes('a\r\nbc\r\n\r\nd\r'), observe);
  });

  test('the length limit', () => {
    const make = (): Lines => {
      const p = new Lines();
      p.maxLength = 3;
      return p;
    };
    forAllChunkings(make, bytes('abc\r\nd\r\n'), observe);
    forAllChunkings(make, bytes('ab\r\nabcd\r\nlater\r\n'), observe, { count: 300 });
  });
});

describe('NetstringReceiver under every split', () => {
  test('strings, the empty string included', () => {
    forAllChunkings(() => new Netstrings(), bytes('3:abc,0:,'), observe);
    forAllChunkings(() => new Netstrings(), bytes('12:hello world!,1:x,10:0123456789,'), observe, {
      count: 300,
    });
  });

  test('broken input: the strings before it, then the connection dropped', () => {
    for (const input of ['1:a,2:bcX', '1:a,x:', '01:a,', '2:ab;', '1:a,3x']) {
      forAllChunkings(() => new Netstrings(), bytes(input), observe);
    }
    forAllChunkings(
      () => {
        const p = new Netstrings();
        p.maxLength = 5;
        return p;
      },
      bytes('5:abcde,6:abcdef,'),
      observe,
      { count: 300 },
    );
  });
});

describe('IntNStringReceivers under every split', () => {
  const kinds = [
    ['Int8StringReceiver', intN(Int8StringReceiver), 1],
    ['Int16StringReceiver', intN(Int16StringReceiver), 2],
    ['Int32StringReceiver', intN(Int32StringReceiver), 4],
  ] as const;
  for (const [name, Kind, width] of kinds) {
    test(`${name}: strings, an empty one, a partial one`, () => {
      const input = Buffer.concat([
        prefixed(width, 'ab', '', 'c'),
        prefixed(width, 'xyz').subarray(0, width + 1),
      ]);
      forAllChunkings(() => new Kind(), input, observe, { count: 300 });
    });

    test(`${name}: a length above maxLength`, () => {
      const make = () => {
        const p = new Kind();
        p.maxLength = 3;
        return p;
      };
      forAllChunkings(make, prefixed(width, 'abc', 'defg', 'h'), observe, { count: 300 });
    });
  }
});

describe('StatefulStringProtocol under every split', () => {
  test('a login exchange', () => {
    const input = bytes('5:alice,6:secret,4:list,3:bye,4:gone,');
    forAllChunkings(() => new Login(), input, observe, { count: 300 });
  });
});
