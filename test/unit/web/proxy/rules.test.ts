// Rules: the rules file format (comments, every bad-line reason), the
// patterns (hosts, domains, wildcards, ports, paths), last match wins per
// kind, explanations, and the built-in set.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Clock } from '../../../../src/internet/task/clock.js';
import {
  type HostPattern,
  hostMatches,
  originOf,
  parsePattern,
  siteOf,
} from '../../../../src/web/proxy/_rule-patterns.js';
import { DEFAULT_RULES } from '../../../../src/web/proxy/default-rules.js';
import {
  formatExplanation,
  hasImageExtension,
  Rules,
  RulesError,
  type RuleTarget,
} from '../../../../src/web/proxy/rules.js';

/** The destination of a plain http request for `/` (or `path`) on port 80 (or `port`). */
function at(host: string, path = '/', port = 80): RuleTarget {
  return { host, port, path };
}

/** The line of the winning access rule for `target`, or undefined. */
function accessLine(rules: Rules, target: RuleTarget): number | undefined {
  return rules.match(target).access?.line;
}

/** Whether `pattern` (in a `block` rule) matches `target`. */
function blocks(pattern: string, target: RuleTarget): boolean {
  return Rules.parse(`block ${pattern}`).match(target).blocked;
}

/** The reasons `Rules.check` gives for `text`, as `line: reason` strings. */
function reasons(text: string): string[] {
  return Rules.check(text).map((p) => `${p.line}: ${p.reason}`);
}

describe('Rules.parse: the line format', () => {
  test('whole-line and trailing comments and blank lines are ignored; the rest are rules in order', () => {
    const rules = Rules.parse(
      '# a comment\n\n   \nblock .example.com   # trailing\n\t# indented comment\nallow ok.example.com\n',
    );
    assert.deepEqual(
      rules.rules.map((r) => [r.line, r.text, r.action, r.pattern]),
      [
        [4, 'block .example.com', 'block', '.example.com'],
        [6, 'allow ok.example.com', 'allow', 'ok.example.com'],
      ],
    );
  });

  test('a # inside a word is not a comment; one after a space is', () => {
    const rules = Rules.parse('set-header * X-Tag a#b c #comment\n');
    assert.equal(rules.rules[0]?.value, 'a#b c');
  });

  test('CRLF line endings are accepted', () => {
    const rules = Rules.parse('block a.com\r\nallow b.com\r\n');
    assert.deepEqual(
      rules.rules.map((r) => r.text),
      ['block a.com', 'allow b.com'],
    );
  });

  test('set-header keeps its value as written, inner spaces included', () => {
    const rules = Rules.parse('set-header  *  User-Agent   Mozilla/5.0 (X11;  Linux x86_64)  \n');
    const rule = rules.rules[0];
    assert.equal(rule?.header, 'User-Agent');
    assert.equal(rule?.value, 'Mozilla/5.0 (X11;  Linux x86_64)');
  });

  test('a header name is kept as written and matched without regard to case', () => {
    const rules = Rules.parse('strip-header * x-client-data\nkeep-header a.com X-CLIENT-DATA\n');
    assert.equal(rules.match(at('b.com')).headers[0]?.action, 'strip-header');
    assert.equal(rules.match(at('a.com')).headers[0]?.action, 'keep-header');
    assert.equal(rules.match(at('a.com')).headers.length, 1);
  });

  test('every action is understood', () => {
    const text = [
      'block a',
      'allow a',
      'strip-cookies a',
      'strip-third-party-cookies a',
      'keep-cookies a',
      'block-images a',
      'allow-images a',
      'trim-referer a',
      'keep-referer a',
      'strip-header a X-A',
      'keep-header a X-A',
      'set-header a X-A 1',
      'option image-answer 403',
    ].join('\n');
    const rules = Rules.parse(text);
    assert.equal(rules.rules.length, 12);
    assert.equal(rules.options.imageAnswer, '403');
  });

  test('option image-answer defaults to gif, and the last option line wins', () => {
    assert.equal(Rules.parse('').options.imageAnswer, 'gif');
    assert.equal(
      Rules.parse('option image-answer 403\noption image-answer gif').options.imageAnswer,
      'gif',
    );
  });

  test('an empty text is an empty rule set that decides nothing', () => {
    const m = Rules.parse('').match(at('example.com'));
    assert.deepEqual(m, {
      access: undefined,
      blocked: false,
      cookies: undefined,
      images: undefined,
      referer: undefined,
      headers: [],
    });
  });
});

describe('Rules.check and RulesError: bad lines', () => {
  const cases: [string, string][] = [
    ['blok .example.com', 'unknown action "blok"'],
    ['block', 'block needs a pattern'],
    ['block a.com b.com', 'extra argument "b.com" (block takes a pattern only)'],
    ['trim-referer * now', 'extra argument "now" (trim-referer takes a pattern only)'],
    ['strip-header *', 'strip-header needs a header name'],
    ['strip-header * X-A X-B', 'extra argument "X-B" (strip-header takes a header name only)'],
    ['set-header *', 'set-header needs a header name and a value'],
    ['set-header * X-A', 'set-header needs a value after X-A'],
    ['block a..com', 'bad pattern "a..com": empty label'],
    ['block example.com.', 'bad pattern "example.com.": empty label'],
    ['block .', 'bad pattern ".": empty label'],
    ['block a.com:0', 'bad pattern "a.com:0": bad port "0" (a port is 1 to 65535)'],
    ['block a.com:65536', 'bad pattern "a.com:65536": bad port "65536" (a port is 1 to 65535)'],
    ['block a.com:http', 'bad pattern "a.com:http": bad port "http" (a port is 1 to 65535)'],
    ['block a.com:', 'bad pattern "a.com:": bad port "" (a port is 1 to 65535)'],
    ['block a.com:80:81', 'bad pattern "a.com:80:81": bad port "80:81" (a port is 1 to 65535)'],
    ['block :80', 'bad pattern ":80": no host (write * for every host)'],
    ['block /ads/', 'bad pattern "/ads/": no host (write * for every host)'],
    ['block a$b.com', 'bad pattern "a$b.com": "$" cannot appear in a host'],
    [
      'block http://a.com/',
      'bad pattern "http://a.com/": a pattern has no scheme (write "a.com/")',
    ],
    ['block [::1', 'bad pattern "[::1": "[" without "]"'],
    ['block [zz]', 'bad pattern "[zz]": "zz" is not an IPv6 address'],
    ['block [::1]x', 'bad pattern "[::1]x": unexpected "x" after "]"'],
    ['strip-header * X:A', 'bad header name "X:A"'],
    ['set-header * X(A) 1', 'bad header name "X(A)"'],
    ['set-header * Host evil.com', 'Host cannot be changed by a rule (the proxy manages it)'],
    [
      'strip-header * content-length',
      'content-length cannot be changed by a rule (the proxy manages it)',
    ],
    ['set-header * X-A a\rb', 'CR in the line'],
    ['set-header * X-A a\x00b', 'a control character in the line'],
    ['set-header * X-A caf\u00e9 \u2603', 'a character beyond Latin-1 in the value of X-A'],
    ['option', 'option needs a name and a value (option image-answer gif)'],
    ['option image-size 1', 'unknown option "image-size"'],
    ['option image-answer', 'option image-answer needs a value: gif or 403'],
    ['option image-answer png', 'option image-answer takes gif or 403, not "png"'],
    ['option image-answer gif now', 'extra argument "now"'],
  ];
  for (const [line, reason] of cases) {
    test(`${JSON.stringify(line)} is refused: ${reason}`, () => {
      assert.deepEqual(Rules.check(`# first\n${line}\n`), [{ line: 2, reason }]);
    });
  }

  test('tabs inside a set-header value are allowed', () => {
    assert.deepEqual(reasons('set-header * X-A a\tb'), []);
  });

  test('RulesError lists every bad line with its source and number; good lines are not listed', () => {
    const text = 'block a.com\nblok b.com\nallow\nblock c.com\n';
    assert.throws(
      () => Rules.parse(text, 'src'),
      (e: unknown) => {
        assert.ok(e instanceof RulesError);
        assert.equal(e.code, 'ERR_PROXY_RULES');
        assert.equal(e.name, 'RulesError');
        assert.equal(e.source, 'src');
        assert.deepEqual(e.problems, [
          { line: 2, reason: 'unknown action "blok"' },
          { line: 3, reason: 'allow needs a pattern' },
        ]);
        assert.equal(
          e.message,
          'src: 2 bad lines\n  src:2: unknown action "blok"\n  src:3: allow needs a pattern',
        );
        return true;
      },
    );
  });

  test('one bad line is "1 bad line"', () => {
    assert.throws(() => Rules.parse('blok x', 'f'), {
      message: 'f: 1 bad line\n  f:1: unknown action "blok"',
    });
  });

  test('Rules.check gives no problems for a good text', () => {
    assert.deepEqual(Rules.check('block a.com\n# c\n'), []);
  });
});

describe('Rules.load and Rules.defaults', () => {
  test('load reads a file, whose path is the source', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-rules-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'rules.txt');
    writeFileSync(path, 'block .example.com\n');
    const rules = Rules.load(path, { loadedAt: 7 });
    assert.equal(rules.source, path);
    assert.equal(rules.loadedAt, 7);
    assert.equal(rules.match(at('www.example.com')).access?.where, `${path}:1`);
  });

  test('load of a missing file throws a RulesError saying so', () => {
    const path = join(tmpdir(), 'torsion-no-such-dir', 'rules.txt');
    assert.throws(
      () => Rules.load(path),
      (e: unknown) => {
        assert.ok(e instanceof RulesError);
        assert.equal(e.message, `cannot read the rules file ${path}: no such file`);
        assert.deepEqual(e.problems, []);
        return true;
      },
    );
  });

  test('load of a directory throws a RulesError saying so', () => {
    assert.throws(() => Rules.load(tmpdir()), {
      name: 'RulesError',
      message: `cannot read the rules file ${tmpdir()}: it is a directory`,
    });
  });

  test('load of a file with bad lines names the file in each problem', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-rules-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'bad.rules');
    writeFileSync(path, 'block a.com\nblock b..com\n');
    assert.throws(() => Rules.load(path), {
      message: `${path}: 1 bad line\n  ${path}:2: bad pattern "b..com": empty label`,
    });
  });

  test('the built-in rules parse with our own parser, as "built-in"', () => {
    assert.deepEqual(Rules.check(DEFAULT_RULES, 'built-in'), []);
    const rules = Rules.defaults({ loadedAt: 0 });
    assert.equal(rules.source, 'built-in');
    assert.ok(rules.rules.filter((r) => r.action === 'block').length >= 30);
  });

  test('the built-in rules block trackers, strip third-party cookies, trim Referer and allow images', () => {
    const rules = Rules.defaults();
    for (const host of [
      'doubleclick.net',
      'ad.doubleclick.net',
      'pagead2.googlesyndication.com',
      'www.google-analytics.com',
      'www.googletagmanager.com',
    ]) {
      const m = rules.match(at(host));
      assert.equal(m.blocked, true, host);
      assert.match(m.access?.where ?? '', /^built-in:\d+$/);
    }
    const site = rules.match(at('www.example.org', '/photo.png'));
    assert.equal(site.blocked, false);
    assert.equal(site.cookies?.action, 'strip-third-party-cookies');
    assert.equal(site.referer?.action, 'trim-referer');
    assert.notEqual(site.images?.action, 'block-images');
    assert.equal(
      rules.explain('http://ad.doubleclick.net/x').verdict.startsWith('blocked by built-in:'),
      true,
    );
  });
});

describe('Rules.summary', () => {
  test('gives the source, the load time from the clock, and every rule and option line', () => {
    const clock = new Clock();
    clock.advance(42.5);
    const rules = Rules.parse('# c\nblock a.com # why\noption image-answer 403\n', 'my.rules', {
      clock,
    });
    assert.deepEqual(rules.summary(), {
      source: 'my.rules',
      loadedAt: 42.5,
      rules: [
        { line: 2, text: 'block a.com' },
        { line: 3, text: 'option image-answer 403' },
      ],
    });
  });

  test('an explicit loadedAt wins over the clock', () => {
    const clock = new Clock();
    clock.advance(3);
    assert.equal(Rules.parse('', 'x', { clock, loadedAt: 9 }).loadedAt, 9);
  });
});

describe('Rules.match: patterns', () => {
  test('a bare host matches that host only', () => {
    assert.equal(blocks('example.com', at('example.com')), true);
    assert.equal(blocks('example.com', at('www.example.com')), false);
    assert.equal(blocks('example.com', at('example.co')), false);
  });

  test('a leading dot matches the domain and every subdomain, not look-alikes', () => {
    for (const host of ['example.com', 'www.example.com', 'a.b.c.example.com']) {
      assert.equal(blocks('.example.com', at(host)), true, host);
    }
    for (const host of ['notexample.com', 'example.com.evil', 'com', 'example.org']) {
      assert.equal(blocks('.example.com', at(host)), false, host);
    }
  });

  test('patterns are case-insensitive; a request host with a trailing dot is the same host', () => {
    assert.equal(blocks('.Example.COM', at('www.example.com')), true);
    assert.equal(blocks('.example.com', at('www.example.com.')), true);
    assert.equal(blocks('example.com', at('example.com.')), true);
  });

  test('* matches every host, IP addresses and single labels included', () => {
    for (const host of ['example.com', 'localhost', '10.0.0.1', '::1']) {
      assert.equal(blocks('*', at(host)), true, host);
    }
  });

  test('* inside a label matches any characters but a dot', () => {
    for (const host of ['ad.example.com', 'ads.example.com', 'adserver.example.com']) {
      assert.equal(blocks('ad*.example.com', at(host)), true, host);
    }
    for (const host of ['bad.example.com', 'ad.x.example.com', 'ad.example.org']) {
      assert.equal(blocks('ad*.example.com', at(host)), false, host);
    }
    assert.equal(blocks('a*z.example.com', at('abcz.example.com')), true);
    assert.equal(blocks('a*z.example.com', at('abc.example.com')), false);
  });

  test('a whole * label first or last stands for one or more labels', () => {
    for (const host of ['x.ads.com', 'a.b.ads.example.co.uk', 'cdn.ads.net']) {
      assert.equal(blocks('*.ads.*', at(host)), true, host);
    }
    for (const host of ['ads.com', 'x.ads', 'xads.com', 'x.myads.com']) {
      assert.equal(blocks('*.ads.*', at(host)), false, host);
    }
    assert.equal(blocks('*.example.com', at('a.b.example.com')), true);
    assert.equal(blocks('*.example.com', at('example.com')), false, 'not the domain itself');
    assert.equal(blocks('ads.*', at('ads.example.org')), true);
    assert.equal(blocks('ads.*', at('ads')), false);
  });

  test('a whole * label in the middle stands for exactly one label', () => {
    assert.equal(blocks('a.*.c', at('a.b.c')), true);
    assert.equal(blocks('a.*.c', at('a.b.b.c')), false);
  });

  test('a leading dot before a wildcard adds any subdomains', () => {
    assert.equal(blocks('.ad*.example.com', at('ad1.example.com')), true);
    assert.equal(blocks('.ad*.example.com', at('x.y.ad1.example.com')), true);
    assert.equal(blocks('.ad*.example.com', at('x.example.com')), false);
  });

  test('wildcards with * in every label are tried for every host', () => {
    assert.equal(blocks('ad*.*', at('adserver.example.com')), true);
    assert.equal(blocks('ad*.*', at('server.example.com')), false);
  });

  test('a port limits a pattern to that port; *:PORT is every host on it', () => {
    assert.equal(blocks('example.com:8080', at('example.com', '/', 8080)), true);
    assert.equal(blocks('example.com:8080', at('example.com', '/', 80)), false);
    assert.equal(blocks('*:25', at('mail.example.com', '', 25)), true);
    assert.equal(blocks('*:25', at('mail.example.com', '', 587)), false);
    assert.equal(blocks('.example.com:443', at('www.example.com', '', 443)), true);
  });

  test('a path is a prefix of the path and query; a CONNECT tunnel (no path) never matches it', () => {
    assert.equal(blocks('example.com/ads/', at('example.com', '/ads/banner.gif')), true);
    assert.equal(blocks('example.com/ads/', at('example.com', '/ads/?x=1')), true);
    assert.equal(blocks('example.com/ads/', at('example.com', '/news/ads/')), false);
    assert.equal(blocks('example.com/ads/', at('example.com', '/ADS/')), false, 'case-sensitive');
    assert.equal(blocks('example.com/ads/', at('example.com', '', 443)), false);
    assert.equal(blocks('*/track?', at('any.host', '/track?id=1')), true);
  });

  test('an IPv6 address pattern is written in brackets, with an optional port', () => {
    assert.equal(blocks('[::1]', at('::1')), true);
    assert.equal(blocks('[::1]:8080', at('::1', '/', 8080)), true);
    assert.equal(blocks('[::1]:8080', at('::1', '/', 80)), false);
    assert.equal(blocks('[::1]', at('::2')), false);
  });

  test('an IPv4 address is an exact host', () => {
    assert.equal(blocks('10.0.0.1', at('10.0.0.1')), true);
    assert.equal(blocks('10.0.0.1', at('10.0.0.10')), false);
  });
});

describe('Rules.match: the last matching rule of each kind wins', () => {
  const rules = Rules.parse(
    [
      'block .example.com', //            1
      'allow www.example.com', //         2
      'strip-cookies *', //               3
      'keep-cookies .example.com', //     4
      'block-images .example.com', //     5
      'set-header * User-Agent A', //     6
      'strip-header .example.com X-A', // 7
      'set-header .example.com User-Agent B', // 8
      'block www.example.com/private/', // 9
      'trim-referer *', //                10
      'keep-referer example.com', //      11
    ].join('\n'),
  );

  test('a later allow undoes an earlier block, and a later block undoes the allow', () => {
    assert.equal(accessLine(rules, at('ads.example.com')), 1);
    assert.equal(rules.match(at('ads.example.com')).blocked, true);
    assert.equal(accessLine(rules, at('www.example.com')), 2);
    assert.equal(rules.match(at('www.example.com')).blocked, false);
    assert.equal(accessLine(rules, at('www.example.com', '/private/x')), 9);
    assert.equal(accessLine(rules, at('other.org')), undefined);
  });

  test('each kind is decided on its own', () => {
    const m = rules.match(at('www.example.com'));
    assert.equal(m.cookies?.line, 4);
    assert.equal(m.images?.line, 5);
    assert.equal(m.referer?.line, 10);
    assert.equal(rules.match(at('example.com')).referer?.line, 11);
    const other = rules.match(at('other.org'));
    assert.equal(other.cookies?.line, 3);
    assert.equal(other.images, undefined);
  });

  test('header rules are decided per header name, listed in rule order', () => {
    assert.deepEqual(
      rules.match(at('www.example.com')).headers.map((r) => r.line),
      [7, 8],
    );
    assert.deepEqual(
      rules.match(at('other.org')).headers.map((r) => [r.line, r.value]),
      [[6, 'A']],
    );
  });

  test('the order of rules of the same pattern kind in the index does not matter', () => {
    const r = Rules.parse('block *\nallow .a.com\nblock x.a.com\nallow *.a.com\n');
    assert.equal(accessLine(r, at('x.a.com')), 4);
    assert.equal(accessLine(r, at('a.com')), 2);
    assert.equal(accessLine(r, at('b.com')), 1);
  });
});

describe('Rules.match: properties', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?$/);
  const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));

  test('a host matches .d exactly when it is d or ends with .d', () => {
    fc.assert(
      fc.property(host, host, (h, d) => {
        const expected = h === d || h.endsWith(`.${d}`);
        assert.equal(blocks(`.${d}`, at(h)), expected);
      }),
      { numRuns: 300, seed: 16 },
    );
  });

  test('a host matches .d when it is d with any labels in front', () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 3 }), host, (front, d) => {
        assert.equal(blocks(`.${d}`, at([...front, d].join('.'))), true);
      }),
      { numRuns: 200, seed: 17 },
    );
  });

  test('wildcards of one * or of the form *.LABELS.* match without their regular expression exactly as with it', () => {
    const part = fc
      .array(fc.constantFrom('a', 'b', 'x', '.', '-'), { maxLength: 5 })
      .map((cs) => cs.join(''));
    const glob = fc
      .tuple(part, part, fc.constantFrom('', 'a', 'b'))
      .map(([before, after, extra]) => `${extra}${before}*${after}`);
    const infix = fc
      .array(fc.constantFrom('a', 'b', 'ab'), { minLength: 1, maxLength: 2 })
      .map((ls) => `*.${ls.join('.')}.*`);
    const labels = fc
      .array(fc.constantFrom('a', 'b', 'ab'), { minLength: 1, maxLength: 2 })
      .map((ls) => ls.join('.'));
    const multi = fc.oneof(
      labels.map((l) => `*.${l}`),
      labels.map((l) => `${l}.*`),
    );
    const pattern = fc
      .oneof(glob, infix, multi)
      .map((text) => parsePattern(text))
      .filter(
        (p): p is HostPattern =>
          typeof p !== 'string' && (p.glob !== undefined || p.infix !== undefined),
      );
    const chars = fc
      .array(fc.constantFrom('a', 'b', 'x', '.', '-', 'ab'), { maxLength: 8 })
      .map((cs) => cs.join(''));
    const labelled = fc
      .array(fc.constantFrom('', 'a', 'b', 'ab', 'x'), { minLength: 1, maxLength: 6 })
      .map((ls) => ls.join('.'));
    const anyHost = fc.oneof(chars, labelled);
    fc.assert(
      fc.property(pattern, anyHost, (p, h) => {
        assert.equal(hostMatches(p, h), (p.regex as RegExp).test(h), `${p.text} vs ${h}`);
      }),
      { numRuns: 3000, seed: 20 },
    );
  });

  test('the indexed match picks the same winners as a rule-by-rule explanation', () => {
    const pool = ['a', 'b', 'ads', 'x1', 'com', 'net'];
    const poolLabel = fc.constantFrom(...pool);
    const poolHost = fc.array(poolLabel, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
    const patternLabel = fc.oneof(poolLabel, fc.constantFrom('*', 'a*', '*s', 'x*'));
    const pattern = fc
      .tuple(
        fc.constantFrom('', '.'),
        fc.array(patternLabel, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('', ':80', ':443'),
        fc.constantFrom('', '/', '/p'),
      )
      .map(([dot, labels, port, path]) => `${dot}${labels.join('.')}${port}${path}`);
    const action = fc.constantFrom(
      'block',
      'allow',
      'strip-cookies',
      'keep-cookies',
      'block-images',
      'trim-referer',
      'strip-header',
      'keep-header',
    );
    const rule = fc
      .tuple(action, fc.oneof(pattern, fc.constant('*')))
      .map(([a, p]) => (a.endsWith('-header') ? `${a} ${p} X-${p.length % 2}` : `${a} ${p}`));
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 25 }),
        poolHost,
        fc.constantFrom(80, 443),
        fc.constantFrom('/', '/p/q', '/x'),
        (lines, h, port, path) => {
          const rules = Rules.parse(lines.join('\n'));
          const m = rules.match({ host: h, port, path });
          const scheme = port === 443 ? 'https' : 'http';
          const steps = rules.explain(`${scheme}://${h}:${port}${path}`).steps;
          const winners = steps.filter((s) => s.wins).map((s) => s.rule.line);
          const chosen = [m.access, m.cookies, m.images, m.referer, ...m.headers]
            .filter((r) => r !== undefined)
            .map((r) => r.line)
            .sort((a, b) => a - b);
          assert.deepEqual(chosen, winners);
        },
      ),
      { numRuns: 400, seed: 18 },
    );
  });
});

describe('Rules.explain', () => {
  const rules = Rules.parse(
    [
      'block .doubleclick.net',
      'block .example.com',
      'allow www.example.com',
      'strip-cookies *',
      'block-images .example.com:8080/img/',
    ].join('\n'),
    'test.rules',
  );

  test('lists every rule with whether it matches, why, and which wins; the verdict names the rule', () => {
    const e = rules.explain('http://ads.example.com/banner');
    assert.equal(e.url, 'http://ads.example.com/banner');
    assert.deepEqual(
      e.steps.map((s) => [s.rule.line, s.matched, s.wins, s.reason]),
      [
        [1, false, false, 'ads.example.com is not in the domain doubleclick.net'],
        [2, true, true, 'ads.example.com is in the domain example.com'],
        [3, false, false, 'the host ads.example.com is not www.example.com'],
        [4, true, true, 'every host matches *'],
        [5, false, false, 'the port is 80, not 8080'],
      ],
    );
    assert.equal(e.verdict, 'blocked by test.rules:2: block .example.com');
  });

  test('an allowed URL says which rule allowed it and what else applies', () => {
    const e = rules.explain('http://www.example.com:8080/img/a.html');
    assert.equal(
      e.verdict,
      'allowed by test.rules:3: allow www.example.com; images from it blocked by test.rules:5: block-images .example.com:8080/img/; cookies stripped by test.rules:4: strip-cookies *',
    );
    assert.equal(
      e.steps[4]?.reason,
      'www.example.com is in the domain example.com, on port 8080, and the path starts with /img/',
    );
  });

  test('an image URL under block-images is blocked as an image', () => {
    const e = rules.explain('http://www.example.com:8080/img/a.PNG?x=1');
    assert.equal(
      e.verdict,
      'blocked as an image (its extension) by test.rules:5: block-images .example.com:8080/img/',
    );
  });

  test('a URL no rule affects is allowed plainly', () => {
    const e = Rules.parse('block a.com').explain('https://b.com/');
    assert.equal(e.verdict, 'allowed (no block rule matches)');
  });

  test('a non-matching path and a wildcard are explained', () => {
    const r = Rules.parse('block example.com/ads/\nblock ad*.example.org');
    const steps = r.explain('http://example.com/news').steps;
    assert.equal(steps[0]?.reason, 'the path /news does not start with /ads/');
    assert.equal(steps[1]?.reason, 'example.com does not match the wildcard ad*.example.org');
    assert.equal(
      r.explain('http://ad2.example.org').steps[1]?.reason,
      'ad2.example.org matches the wildcard ad*.example.org',
    );
  });

  test('header, Referer and third-party cookie rules appear in the verdict', () => {
    const r = Rules.parse(
      'strip-third-party-cookies *\ntrim-referer *\nstrip-header * X-A\nset-header * User-Agent Bot 1\nkeep-header * DNT\nkeep-referer a.com\nkeep-cookies a.com\nallow-images *',
      'r',
    );
    assert.equal(
      r.explain('b.com').verdict,
      'allowed (no block rule matches); images allowed by r:8: allow-images *; third-party cookies stripped by r:1: strip-third-party-cookies *; Referer trimmed by r:2: trim-referer *; X-A removed by r:3: strip-header * X-A; User-Agent set to "Bot 1" by r:4: set-header * User-Agent Bot 1; DNT kept by r:5: keep-header * DNT',
    );
    assert.match(r.explain('a.com').verdict, /cookies kept by r:7: .*Referer kept by r:6/);
  });

  test('a URL without a scheme is taken as http; https defaults to port 443; hosts lose case and trailing dot', () => {
    const r = Rules.parse('block example.com:443\nblock x.org:80');
    assert.equal(
      r.explain('https://EXAMPLE.com./').verdict,
      'blocked by rules:1: block example.com:443',
    );
    assert.equal(r.explain('x.org/a').url, 'http://x.org/a');
    assert.equal(r.explain('x.org/a').verdict, 'blocked by rules:2: block x.org:80');
  });

  test('a URL that cannot be parsed, or of another scheme, is a TypeError that says why', () => {
    assert.throws(() => rules.explain('http://exa mple.com/'), {
      name: 'TypeError',
      message: 'cannot explain "http://exa mple.com/": not a URL',
    });
    assert.throws(() => rules.explain('ftp://example.com/'), {
      name: 'TypeError',
      message: 'cannot explain "ftp://example.com/": the proxy handles http and https, not ftp',
    });
  });

  test('an IPv6 URL is matched without its brackets', () => {
    assert.equal(
      Rules.parse('block [::1]').explain('http://[::1]:8080/').verdict,
      'blocked by rules:1: block [::1]',
    );
  });
});

describe('formatExplanation', () => {
  const rules = Rules.parse(
    'block .doubleclick.net\nblock .example.com\nstrip-cookies *\nstrip-cookies a.org\n',
  );

  test('shows the URL, every rule with its line, mark and reason, and the verdict', () => {
    const text = formatExplanation(rules.explain('http://ads.example.com/x'));
    assert.equal(
      text,
      [
        'http://ads.example.com/x',
        '  line 1  -      block .doubleclick.net  ads.example.com is not in the domain doubleclick.net',
        '  line 2  wins   block .example.com      ads.example.com is in the domain example.com',
        '  line 3  wins   strip-cookies *         every host matches *',
        '  line 4  -      strip-cookies a.org     the host ads.example.com is not a.org',
        'verdict: blocked by rules:2: block .example.com',
        '',
      ].join('\n'),
    );
  });

  test('a matching rule that does not win is marked "match"', () => {
    const text = formatExplanation(rules.explain('http://a.org/'), { onlyMatched: true });
    assert.equal(
      text,
      [
        'http://a.org/',
        '  line 3  match  strip-cookies *      every host matches *',
        '  line 4  wins   strip-cookies a.org  the host is a.org',
        '  (2 other rules do not match)',
        'verdict: allowed (no block rule matches); cookies stripped by rules:4: strip-cookies a.org',
        '',
      ].join('\n'),
    );
  });

  test('with no matching rule it says so', () => {
    const text = formatExplanation(Rules.parse('block a.com').explain('http://b.com/'), {
      onlyMatched: true,
    });
    assert.match(text, /\(no rule matches\)\n {2}\(1 other rule does not match\)\n/);
  });
});

describe('helpers', () => {
  test('hasImageExtension looks at the last path segment, before the query', () => {
    for (const p of ['/a.png', '/x/y.JPG?v=2', '/i.webp#f', '/favicon.ico', '/a.b.svg']) {
      assert.equal(hasImageExtension(p), true, p);
    }
    for (const p of ['/', '/a.html', '/png', '/a.png/x', '/a?x=.png', '', '/a.pngx']) {
      assert.equal(hasImageExtension(p), false, p);
    }
  });

  test('siteOf takes the last two labels, three under country second-level labels; IPs are their own site', () => {
    assert.equal(siteOf('www.example.com'), 'example.com');
    assert.equal(siteOf('example.com'), 'example.com');
    assert.equal(siteOf('a.b.example.co.uk'), 'example.co.uk');
    assert.equal(siteOf('co.uk'), 'co.uk');
    assert.equal(siteOf('localhost'), 'localhost');
    assert.equal(siteOf('10.1.2.3'), '10.1.2.3');
    assert.equal(siteOf('::1'), '::1');
  });

  /** What originOf must give: URL's reading. */
  function reference(url: string): { origin: string; host: string } | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    let host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (host.endsWith('.')) host = host.slice(0, -1);
    return { origin: u.origin, host };
  }

  test('originOf reads the origin and host of http and https URLs as URL does', () => {
    for (const url of [
      'https://www.example.com/path?q#f',
      'http://example.com',
      'http://example.com:8080/',
      'https://example.com:443/x',
      'http://EXAMPLE.com/',
      'http://user:pw@example.com/',
      'http://[::1]:8080/',
      'http://127.0.0.1/',
      'http://0x7f.1/',
      'http://a.0x1/',
      'http://example.com./',
      'http://exa%41mple.com/',
      'http://xn--bcher-kva.example/',
      'ftp://example.com/',
      'not a url',
      'http://a.com:99999/',
      'http://a.com:/',
      'http://a..com/',
      'https://a.com\\path',
    ]) {
      assert.deepEqual(originOf(url), reference(url), url);
    }
  });

  test('originOf agrees with URL on random URL-like strings', () => {
    const chars = 'abcz019.-:/?#@%_ABx\\[]'.split('');
    const part = fc.array(fc.constantFrom(...chars), { maxLength: 14 }).map((cs) => cs.join(''));
    const url = fc
      .tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'ws://', ''), part, part)
      .map(([scheme, a, b]) => `${scheme}${a}${b}`);
    fc.assert(
      fc.property(url, (u) => {
        assert.deepEqual(originOf(u), reference(u));
      }),
      { numRuns: 3000, seed: 19 },
    );
  });
});
