// The `torsion` command line: the global options and the option parser
// (ports what maps of Twisted's application/twist/test/test_options.py,
// TwistOptionsTests; reactor selection has no counterpart here).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GLOBAL_OPTIONS,
  type OptionSpec,
  PluginOptions,
  parseArguments,
  parseCommandLine,
} from '../../../src/runner/options.js';

/** The global options of a command line that names a plugin; fails the test otherwise. */
function globalsOf(argv: string[]) {
  const line = parseCommandLine(argv);
  assert.equal(line.kind, 'plugin', JSON.stringify(line));
  if (line.kind !== 'plugin') throw new Error('unreachable');
  return line;
}

function errorOf(argv: string[]): string {
  const line = parseCommandLine(argv);
  assert.equal(line.kind, 'error', JSON.stringify(line));
  if (line.kind !== 'error') throw new Error('unreachable');
  assert.doesNotMatch(line.message, /\n/, 'an error is one line');
  return line.message;
}

describe('parseCommandLine: the global options', () => {
  test('with no option, every global option has its default (test_installReactorDefault, defaults)', () => {
    const line = globalsOf(['web']);
    assert.deepEqual(line.global, {
      logLevel: 'info',
      logFormat: 'text',
      logFile: '-',
      workers: 1,
      shutdownTimeout: 10,
    });
    assert.equal(line.plugin, 'web');
    assert.deepEqual(line.args, []);
  });

  test('everything after the plugin name is left for the plugin, options included', () => {
    const line = globalsOf(['--workers', '2', 'web', '--path', 'public', '--workers', '3']);
    assert.equal(line.global.workers, 2);
    assert.deepEqual(line.args, ['--path', 'public', '--workers', '3']);
  });

  test('--log-level sets the level (test_logLevelValid)', () => {
    for (const level of ['debug', 'info', 'warn', 'error', 'critical'] as const) {
      assert.equal(globalsOf(['--log-level', level, 'echo']).global.logLevel, level);
    }
  });

  test('an invalid --log-level is an error naming the valid levels (test_logLevelInvalid)', () => {
    assert.equal(
      errorOf(['--log-level', 'cheese', 'echo']),
      'invalid --log-level "cheese": expected one of debug, info, warn, error, critical',
    );
  });

  test('--opt=value and --opt value are the same', () => {
    assert.deepEqual(
      globalsOf(['--log-level=debug', '--log-file=/tmp/x.log', '--pid-file=/tmp/p', 'echo']).global,
      globalsOf([
        '--log-level',
        'debug',
        '--log-file',
        '/tmp/x.log',
        '--pid-file',
        '/tmp/p',
        'echo',
      ]).global,
    );
  });

  test('--log-file takes a path, or "-" for standard output (test_logFileStdout, test_logFileNamed)', () => {
    assert.equal(globalsOf(['--log-file', '-', 'echo']).global.logFile, '-');
    assert.equal(globalsOf(['--log-file', 'my.log', 'echo']).global.logFile, 'my.log');
  });

  test('--log-format is text or json (test_logFormatText, test_logFormatJSON)', () => {
    assert.equal(globalsOf(['--log-format', 'text', 'echo']).global.logFormat, 'text');
    assert.equal(globalsOf(['--log-format', 'json', 'echo']).global.logFormat, 'json');
  });

  test('an invalid --log-format is an error (test_logFormatInvalid)', () => {
    assert.equal(
      errorOf(['--log-format', 'frommage', 'echo']),
      'invalid --log-format "frommage": expected one of text, json',
    );
  });

  test('--workers is an integer >= 1', () => {
    assert.equal(globalsOf(['--workers', '4', 'echo']).global.workers, 4);
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      assert.equal(
        errorOf([`--workers=${bad}`, 'echo']),
        `invalid --workers ${JSON.stringify(bad)}: expected an integer >= 1`,
      );
    }
  });

  test('--shutdown-timeout is a number of seconds >= 0', () => {
    assert.equal(globalsOf(['--shutdown-timeout', '0', 'echo']).global.shutdownTimeout, 0);
    assert.equal(globalsOf(['--shutdown-timeout', '2.5', 'echo']).global.shutdownTimeout, 2.5);
    assert.match(errorOf(['--shutdown-timeout', '-1', 'echo']), /expected a number >= 0/);
    assert.match(errorOf(['--shutdown-timeout', 'soon', 'echo']), /expected a number >= 0/);
  });

  test('--pid-file is recorded when given', () => {
    assert.equal(globalsOf(['--pid-file', 'run.pid', 'echo']).global.pidFile, 'run.pid');
  });

  test('a later value of an option replaces an earlier one', () => {
    assert.equal(
      globalsOf(['--log-level', 'debug', '--log-level', 'error', 'echo']).global.logLevel,
      'error',
    );
  });

  test('an unknown option is refused with the list of valid ones', () => {
    assert.equal(
      errorOf(['--verbose', 'echo']),
      'unknown option --verbose; valid options: --log-level, --log-format, --log-file, --workers, ' +
        '--pid-file, --shutdown-timeout, --inject-faults, --help, --version',
    );
    assert.match(errorOf(['--verbose=3', 'echo']), /^unknown option --verbose;/);
    assert.match(errorOf(['-x', 'echo']), /^unknown option -x;/);
  });

  test('an option without its value is an error naming the value', () => {
    assert.equal(errorOf(['--log-level']), '--log-level needs a value (LEVEL)');
  });

  test('no plugin is an error that asks for the usage', () => {
    assert.deepEqual(parseCommandLine([]), {
      kind: 'error',
      message: 'no plugin given',
      usage: true,
    });
    assert.deepEqual(parseCommandLine(['--log-level', 'warn']), {
      kind: 'error',
      message: 'no plugin given',
      usage: true,
    });
  });

  test('--help and -h ask for help, --version for the version (test_version), wherever they are before the plugin', () => {
    assert.deepEqual(parseCommandLine(['--help']), { kind: 'help' });
    assert.deepEqual(parseCommandLine(['-h']), { kind: 'help' });
    assert.deepEqual(parseCommandLine(['--log-level', 'warn', '--help', 'web']), { kind: 'help' });
    assert.deepEqual(parseCommandLine(['--version']), { kind: 'version' });
  });

  test('an error before --help wins, as Twisted parses in order', () => {
    assert.equal(parseCommandLine(['--nope', '--help']).kind, 'error');
  });

  test('-- ends the options: what follows is the plugin', () => {
    assert.equal(globalsOf(['--', '--odd-name']).plugin, '--odd-name');
  });

  test('the global specs are the documented ones, in order', () => {
    assert.deepEqual(
      GLOBAL_OPTIONS.map((spec) => spec.name),
      [
        'log-level',
        'log-format',
        'log-file',
        'workers',
        'pid-file',
        'shutdown-timeout',
        'inject-faults',
      ],
    );
  });
});

const SPECS: OptionSpec[] = [
  { name: 'listen', type: 'string', multiple: true, default: ['tcp:1'], help: 'where' },
  { name: 'path', type: 'string', default: '.', help: 'what' },
  { name: 'listing', type: 'boolean', default: false, help: 'list?' },
  { name: 'count', short: 'c', type: 'integer', min: 0, help: 'how many' },
];

function parsed(argv: string[], options = {}) {
  const result = parseArguments(SPECS, argv, options);
  assert.equal(result.kind, 'parsed', JSON.stringify(result));
  if (result.kind !== 'parsed') throw new Error('unreachable');
  return result;
}

describe('parseArguments: a plugin’s options', () => {
  test('defaults fill in what was not given; an option without a default has no value', () => {
    const { values } = parsed([]);
    assert.deepEqual(Object.fromEntries(values), { listen: ['tcp:1'], path: '.', listing: false });
  });

  test('a repeatable option collects its values in order, replacing its default', () => {
    const { values } = parsed(['--listen', 'tcp:2', '--listen=tcp:3']);
    assert.deepEqual(values.get('listen'), ['tcp:2', 'tcp:3']);
  });

  test('a boolean is set by --name, cleared by --no-name, and read from --name=on|off', () => {
    assert.equal(parsed(['--listing']).values.get('listing'), true);
    assert.equal(parsed(['--listing', '--no-listing']).values.get('listing'), false);
    assert.equal(parsed(['--listing=yes']).values.get('listing'), true);
    assert.equal(parsed(['--listing=off']).values.get('listing'), false);
    const bad = parseArguments(SPECS, ['--listing=maybe']);
    assert.deepEqual(bad, {
      kind: 'error',
      message: 'invalid --listing "maybe": expected on or off (or true/false, yes/no, 1/0)',
    });
  });

  test('a boolean does not take the next argument as its value', () => {
    const result = parsed(['--listing', 'extra'], { positionals: [{ name: 'module', help: '' }] });
    assert.equal(result.values.get('listing'), true);
    assert.deepEqual(result.positional, { module: 'extra' });
  });

  test('a short alias works, and integers are converted', () => {
    assert.equal(parsed(['-c', '3']).values.get('count'), 3);
  });

  test('a value may start with a dash when given after the option', () => {
    assert.equal(parsed(['--path', '-']).values.get('path'), '-');
  });

  test('positional arguments are named; a missing one or one too many is an error', () => {
    const positionals = [{ name: 'module', help: '' }];
    assert.deepEqual(parsed(['./app.js'], { positionals }).positional, { module: './app.js' });
    assert.deepEqual(parseArguments(SPECS, [], { positionals }), {
      kind: 'error',
      message: 'missing argument MODULE',
    });
    assert.deepEqual(parseArguments(SPECS, ['a', 'b'], { positionals }), {
      kind: 'error',
      message: 'unexpected argument "b"',
    });
  });

  test('with allowExtra, undeclared --key value pairs go to extra, as strings', () => {
    const result = parsed(['--path', 'x', '--greeting', 'hi', '--port=80'], { allowExtra: true });
    assert.deepEqual(result.extra, { greeting: 'hi', port: '80' });
    assert.equal(result.values.get('path'), 'x');
    assert.deepEqual(parseArguments(SPECS, ['--greeting'], { allowExtra: true }), {
      kind: 'error',
      message: '--greeting needs a value',
    });
  });

  test('an unknown option lists the valid ones; one valid elsewhere says where', () => {
    assert.deepEqual(parseArguments(SPECS, ['--nope']), {
      kind: 'error',
      message:
        'unknown option --nope; valid options: --listen, --path, --listing, --count, --help, --version',
    });
    const elsewhere = { names: new Set(['workers']), hint: 'is a global option' };
    assert.deepEqual(parseArguments(SPECS, ['--workers', '2'], { elsewhere }), {
      kind: 'error',
      message: '--workers is a global option',
    });
  });

  test('--help and --version stop the parse', () => {
    assert.deepEqual(parseArguments(SPECS, ['--nope=1', '--help']).kind, 'error');
    assert.deepEqual(parseArguments(SPECS, ['--path', 'x', '--help', '--nope']), { kind: 'help' });
    assert.deepEqual(parseArguments(SPECS, ['--version']), { kind: 'version' });
  });

  test('numbers below their minimum are refused', () => {
    assert.deepEqual(parseArguments(SPECS, ['--count', '-1']), {
      kind: 'error',
      message: 'invalid --count "-1": expected an integer >= 0',
    });
  });
});

describe('PluginOptions', () => {
  test('reads values by type, and says which option has the wrong type', () => {
    const options = new PluginOptions({ path: '.', listen: ['a', 'b'], listing: true, n: 3 });
    assert.equal(options.string('path'), '.');
    assert.deepEqual(options.strings('listen'), ['a', 'b']);
    assert.deepEqual(options.strings('path'), ['.']);
    assert.equal(options.boolean('listing'), true);
    assert.equal(options.boolean('absent'), false);
    assert.equal(options.number('n'), 3);
    assert.equal(options.optionalString('absent'), undefined);
    assert.equal(options.has('absent'), false);
    assert.throws(() => options.string('n'), /option --n is not a string: it has 3/);
    assert.throws(
      () => options.number('absent'),
      /option --absent is not a number: it has no value/,
    );
  });
});
