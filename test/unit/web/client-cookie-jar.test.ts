// CookieJar: RFC 6265's examples, the IETF http-state working group's parser
// test corpus, §5.1.1 dates, the storage model (host-only and domain
// cookies, refused domains, replacement, expiry on a Clock, eviction), the
// Cookie header's order, persistence as JSON, and properties of any cookie.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Clock } from '../../../src/internet/task/clock.js';
import { CookieJar, parseCookieDate } from '../../../src/web/client/cookie-jar.js';
import { InvalidURIError } from '../../../src/web/client/uri.js';

/** 2011-03-13, as seconds: the corpus was written against a clock of that time (its "future" dates are 2017–2027). */
const CORPUS_NOW = 1_300_000_000;

function jarAt(now = CORPUS_NOW, options: ConstructorParameters<typeof CookieJar>[1] = {}) {
  const clock = new Clock();
  clock.advance(now);
  return { clock, jar: new CookieJar(clock, options) };
}

/**
 * The http-state corpus (github.com/abarth/http-state, tests/data/parser.json
 * at 155e45c, the DISABLED_ cases left out): each case's Set-Cookie values
 * are received from http://home.example.org:8888/cookie-parser?<test>, and
 * the Cookie header is then asked for "sent-to" (resolved against that URL;
 * by default /cookie-parser-result?<test>).
 */
const CORPUS: [
  test: string,
  received: string[],
  sentTo: string | undefined,
  cookie: string | undefined,
][] = [
  ['0001', ['foo=bar'], undefined, 'foo=bar'],
  ['0002', ['foo=bar; Expires=Fri, 07 Aug 2019 08:04:19 GMT'], undefined, 'foo=bar'],
  [
    '0003',
    [
      'foo=bar; Expires=Fri, 07 Aug 2007 08:04:19 GMT',
      'foo2=bar2; Expires=Fri, 07 Aug 2027 08:04:19 GMT',
    ],
    undefined,
    'foo2=bar2',
  ],
  ['0004', ['foo'], undefined, undefined],
  ['0005', ['foo=bar; max-age=10000;'], undefined, 'foo=bar'],
  ['0006', ['foo=bar; max-age=0;'], undefined, undefined],
  ['0007', ['foo=bar; version=1;'], undefined, 'foo=bar'],
  ['0008', ['foo=bar; version=1000;'], undefined, 'foo=bar'],
  ['0009', ['foo=bar; customvalue=1000;'], undefined, 'foo=bar'],
  ['0010', ['foo=bar; secure;'], undefined, undefined],
  ['0011', ['foo=bar; customvalue="1000 or more";'], undefined, 'foo=bar'],
  ['0012', ['foo=bar; customvalue="no trailing semicolon"'], undefined, 'foo=bar'],
  ['0013', ['foo=bar', 'foo=qux'], undefined, 'foo=qux'],
  ['0014', ['foo1=bar', 'foo2=qux'], undefined, 'foo1=bar; foo2=qux'],
  ['0015', ['a=b', 'z=y'], undefined, 'a=b; z=y'],
  ['0016', ['z=y', 'a=b'], undefined, 'z=y; a=b'],
  ['0017', ['z=y, a=b'], undefined, 'z=y, a=b'],
  ['0018', ['z=y; foo=bar, a=b'], undefined, 'z=y'],
  ['0019', ['foo=b;max-age=3600, c=d;path=/'], undefined, 'foo=b'],
  ['0020', ['a=b', '=', 'c=d'], undefined, 'a=b; c=d'],
  ['0021', ['a=b', '=x', 'c=d'], undefined, 'a=b; c=d'],
  ['0022', ['a=b', 'x=', 'c=d'], undefined, 'a=b; x=; c=d'],
  ['0023', ['foo', ''], undefined, undefined],
  ['0024', ['foo', '='], undefined, undefined],
  ['0025', ['foo', '; bar'], undefined, undefined],
  ['0026', ['foo', '   '], undefined, undefined],
  ['0027', ['foo', 'bar'], undefined, undefined],
  ['0028', ['foo', '\t'], undefined, undefined],
  ['ATTRIBUTE0001', ['foo=bar; Secure'], undefined, undefined],
  ['ATTRIBUTE0002', ['foo=bar; seCURe'], undefined, undefined],
  ['ATTRIBUTE0003', ['foo=bar; "Secure"'], undefined, 'foo=bar'],
  ['ATTRIBUTE0004', ['foo=bar; Secure='], undefined, undefined],
  ['ATTRIBUTE0005', ['foo=bar; Secure=aaaa'], undefined, undefined],
  ['ATTRIBUTE0006', ['foo=bar; Secure qux'], undefined, 'foo=bar'],
  ['ATTRIBUTE0007', ['foo=bar; Secure =aaaaa'], undefined, undefined],
  ['ATTRIBUTE0008', ['foo=bar; Secure= aaaaa'], undefined, undefined],
  ['ATTRIBUTE0009', ['foo=bar; Secure; qux'], undefined, undefined],
  ['ATTRIBUTE0010', ['foo=bar; Secure;qux'], undefined, undefined],
  ['ATTRIBUTE0011', ['foo=bar; Secure    ; qux'], undefined, undefined],
  ['ATTRIBUTE0012', ['foo=bar;                Secure'], undefined, undefined],
  ['ATTRIBUTE0013', ['foo=bar;       Secure     ;'], undefined, undefined],
  ['ATTRIBUTE0014', ['foo=bar; Path'], undefined, 'foo=bar'],
  ['ATTRIBUTE0015', ['foo=bar; Path='], undefined, 'foo=bar'],
  ['ATTRIBUTE0016', ['foo=bar; Path=/'], undefined, 'foo=bar'],
  ['ATTRIBUTE0017', ['foo=bar; Path=/qux'], undefined, undefined],
  ['ATTRIBUTE0018', ['foo=bar; Path    =/qux'], undefined, undefined],
  ['ATTRIBUTE0019', ['foo=bar; Path=    /qux'], undefined, undefined],
  ['ATTRIBUTE0020', ['foo=bar; Path=/qux      ; taz'], undefined, undefined],
  ['ATTRIBUTE0021', ['foo=bar; Path=/qux; Path=/'], undefined, 'foo=bar'],
  ['ATTRIBUTE0022', ['foo=bar; Path=/; Path=/qux'], undefined, undefined],
  ['ATTRIBUTE0023', ['foo=bar; Path=/qux; Path=/cookie-parser-result'], undefined, 'foo=bar'],
  ['ATTRIBUTE0024', ['foo=bar; Path=/cookie-parser-result; Path=/qux'], undefined, undefined],
  ['ATTRIBUTE0025', ['foo=bar; qux; Secure'], undefined, undefined],
  ['ATTRIBUTE0026', ['foo=bar; qux="aaa;bbb"; Secure'], undefined, undefined],
  [
    'CHARSET0001',
    ['foo=\u6625\u8282\u56de\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c'],
    undefined,
    'foo=\u6625\u8282\u56de\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c',
  ],
  [
    'CHARSET0002',
    ['\u6625\u8282\u56de=\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c'],
    undefined,
    '\u6625\u8282\u56de=\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c',
  ],
  [
    'CHARSET0003',
    ['\u6625\u8282\u56de=\u5bb6\u8def\u00b7\u6625\u8fd0; \u5b8c\u5168\u624b\u518c'],
    undefined,
    '\u6625\u8282\u56de=\u5bb6\u8def\u00b7\u6625\u8fd0',
  ],
  [
    'CHARSET0004',
    ['foo="\u6625\u8282\u56de\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c"'],
    undefined,
    'foo="\u6625\u8282\u56de\u5bb6\u8def\u00b7\u6625\u8fd0\u5b8c\u5168\u624b\u518c"',
  ],
  ['CHROMIUM0001', ['a=b'], undefined, 'a=b'],
  ['CHROMIUM0002', ['aBc="zzz "   ;'], undefined, 'aBc="zzz "'],
  ['CHROMIUM0003', ['aBc="zzz " ;'], undefined, 'aBc="zzz "'],
  ['CHROMIUM0004', ['aBc="zz;pp" ; ;'], undefined, 'aBc="zz'],
  ['CHROMIUM0005', ['aBc="zz ;'], undefined, 'aBc="zz'],
  ['CHROMIUM0006', ['aBc="zzz "   "ppp"  ;'], undefined, 'aBc="zzz "   "ppp"'],
  ['CHROMIUM0007', ['aBc="zzz "   "ppp" ;'], undefined, 'aBc="zzz "   "ppp"'],
  ['CHROMIUM0008', ['aBc=A"B ;'], undefined, 'aBc=A"B'],
  ['CHROMIUM0009', ['BLAHHH; path=/;'], undefined, undefined],
  ['CHROMIUM0010', ['"BLA\\"HHH"; path=/;'], undefined, undefined],
  ['CHROMIUM0011', ['a="B'], undefined, 'a="B'],
  ['CHROMIUM0012', ['=ABC'], undefined, undefined],
  ['CHROMIUM0013', ['ABC=;  path = /'], undefined, 'ABC='],
  ['CHROMIUM0014', ['  A  = BC  ;foo;;;   bar'], undefined, 'A=BC'],
  ['CHROMIUM0015', ['  A=== BC  ;foo;;;   bar'], undefined, 'A=== BC'],
  [
    'CHROMIUM0016',
    ['foo="zohNumRKgI0oxyhSsV3Z7D"  ; expires=Sun, 18-Apr-2027 21:06:29 GMT ; path=/  ;  '],
    undefined,
    'foo="zohNumRKgI0oxyhSsV3Z7D"',
  ],
  [
    'CHROMIUM0017',
    ['foo=zohNumRKgI0oxyhSsV3Z7D  ; expires=Sun, 18-Apr-2027 21:06:29 GMT ; path=/  ;  '],
    undefined,
    'foo=zohNumRKgI0oxyhSsV3Z7D',
  ],
  ['CHROMIUM0018', ['    '], undefined, undefined],
  ['CHROMIUM0019', [`a=${'a'.repeat(4094)}`], undefined, `a=${'a'.repeat(4094)}`],
  ['CHROMIUM0021', [''], undefined, undefined],
  ['COMMA0001', ['foo=bar, baz=qux'], undefined, 'foo=bar, baz=qux'],
  ['COMMA0002', ['foo="bar, baz=qux"'], undefined, 'foo="bar, baz=qux"'],
  ['COMMA0003', ['foo=bar; b,az=qux'], undefined, 'foo=bar'],
  ['COMMA0004', ['foo=bar; baz=q,ux'], undefined, 'foo=bar'],
  ['COMMA0005', ['foo=bar; Max-Age=50,399'], undefined, 'foo=bar'],
  ['COMMA0006', ['foo=bar; Expires=Fri, 07 Aug 2019 08:04:19 GMT'], undefined, 'foo=bar'],
  ['COMMA0007', ['foo=bar; Expires=Fri 07 Aug 2019 08:04:19 GMT, baz=qux'], undefined, 'foo=bar'],
  [
    'DOMAIN0001',
    ['foo=bar; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0001',
    'foo=bar',
  ],
  [
    'DOMAIN0002',
    ['foo=bar; domain=home.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0002',
    undefined,
  ],
  [
    'DOMAIN0003',
    ['foo=bar; domain=.home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0003',
    'foo=bar',
  ],
  [
    'DOMAIN0004',
    ['foo=bar; domain=home.example.org'],
    'http://subdomain.home.example.org:8888/cookie-parser-result?domain0004',
    'foo=bar',
  ],
  [
    'DOMAIN0005',
    ['foo=bar; domain=.home.example.org'],
    'http://subdomain.home.example.org:8888/cookie-parser-result?domain0005',
    'foo=bar',
  ],
  [
    'DOMAIN0006',
    ['foo=bar; domain=.home.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0006',
    undefined,
  ],
  [
    'DOMAIN0007',
    ['foo=bar; domain=sibling.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0007',
    undefined,
  ],
  [
    'DOMAIN0008',
    ['foo=bar; domain=.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0008',
    'foo=bar',
  ],
  [
    'DOMAIN0009',
    ['foo=bar; domain=example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0009',
    'foo=bar',
  ],
  [
    'DOMAIN0010',
    ['foo=bar; domain=..home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0010',
    undefined,
  ],
  [
    'DOMAIN0011',
    ['foo=bar; domain=home..example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0011',
    undefined,
  ],
  [
    'DOMAIN0012',
    ['foo=bar; domain=  .home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0012',
    'foo=bar',
  ],
  [
    'DOMAIN0013',
    ['foo=bar; domain=  .  home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0013',
    undefined,
  ],
  [
    'DOMAIN0014',
    ['foo=bar; domain=home.example.org.'],
    'http://home.example.org:8888/cookie-parser-result?domain0014',
    undefined,
  ],
  [
    'DOMAIN0015',
    ['foo=bar; domain=home.example.org..'],
    'http://home.example.org:8888/cookie-parser-result?domain0015',
    undefined,
  ],
  [
    'DOMAIN0016',
    ['foo=bar; domain=home.example.org .'],
    'http://home.example.org:8888/cookie-parser-result?domain0016',
    undefined,
  ],
  [
    'DOMAIN0017',
    ['foo=bar; domain=.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0017',
    undefined,
  ],
  [
    'DOMAIN0018',
    ['foo=bar; domain=.org.'],
    'http://home.example.org:8888/cookie-parser-result?domain0018',
    undefined,
  ],
  [
    'DOMAIN0019',
    ['foo=bar; domain=home.example.org', 'foo2=bar2; domain=.home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0019',
    'foo=bar; foo2=bar2',
  ],
  [
    'DOMAIN0020',
    ['foo2=bar2; domain=.home.example.org', 'foo=bar; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0020',
    'foo2=bar2; foo=bar',
  ],
  [
    'DOMAIN0021',
    ['foo=bar; domain="home.example.org"'],
    'http://home.example.org:8888/cookie-parser-result?domain0021',
    undefined,
  ],
  [
    'DOMAIN0022',
    ['foo=bar; domain=home.example.org', 'foo2=bar2; domain=.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0022',
    'foo=bar; foo2=bar2',
  ],
  [
    'DOMAIN0023',
    ['foo2=bar2; domain=.example.org', 'foo=bar; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0023',
    'foo2=bar2; foo=bar',
  ],
  [
    'DOMAIN0024',
    ['foo=bar; domain=.example.org; domain=home.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0024',
    undefined,
  ],
  [
    'DOMAIN0025',
    ['foo=bar; domain=home.example.org; domain=.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0025',
    'foo=bar',
  ],
  [
    'DOMAIN0026',
    ['foo=bar; domain=home.eXaMpLe.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0026',
    'foo=bar',
  ],
  [
    'DOMAIN0027',
    ['foo=bar; domain=home.example.org:8888'],
    'http://home.example.org:8888/cookie-parser-result?domain0027',
    undefined,
  ],
  [
    'DOMAIN0028',
    ['foo=bar; domain=subdomain.home.example.org'],
    'http://subdomain.home.example.org:8888/cookie-parser-result?domain0028',
    undefined,
  ],
  [
    'DOMAIN0029',
    ['foo=bar'],
    'http://subdomain.home.example.org:8888/cookie-parser-result?domain0029',
    undefined,
  ],
  [
    'DOMAIN0031',
    ['foo=bar; domain=home.example.org; domain=.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0031',
    'foo=bar',
  ],
  [
    'DOMAIN0033',
    ['foo=bar; domain=home.example.org'],
    'http://hoMe.eXaMplE.org:8888/cookie-parser-result?domain0033',
    'foo=bar',
  ],
  [
    'DOMAIN0034',
    ['foo=bar; domain=home.example.org; domain=home.example.com'],
    'http://home.example.org:8888/cookie-parser-result?domain0034',
    undefined,
  ],
  [
    'DOMAIN0035',
    ['foo=bar; domain=home.example.com; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0035',
    'foo=bar',
  ],
  [
    'DOMAIN0036',
    ['foo=bar; domain=home.example.org; domain=home.example.com; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0036',
    'foo=bar',
  ],
  [
    'DOMAIN0037',
    ['foo=bar; domain=home.example.com; domain=home.example.org; domain=home.example.com'],
    'http://home.example.org:8888/cookie-parser-result?domain0037',
    undefined,
  ],
  [
    'DOMAIN0038',
    ['foo=bar; domain=home.example.org; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0038',
    'foo=bar',
  ],
  [
    'DOMAIN0039',
    ['foo=bar; domain=home.example.org; domain=example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0039',
    'foo=bar',
  ],
  [
    'DOMAIN0040',
    ['foo=bar; domain=example.org; domain=home.example.org'],
    'http://home.example.org:8888/cookie-parser-result?domain0040',
    'foo=bar',
  ],
  [
    'DOMAIN0041',
    ['foo=bar; domain=.sibling.example.org'],
    'http://sibling.example.org:8888/cookie-parser-result?domain0041',
    undefined,
  ],
  [
    'DOMAIN0042',
    ['foo=bar; domain=.sibling.home.example.org'],
    'http://sibling.home.example.org:8888/cookie-parser-result?domain0042',
    undefined,
  ],
  ['MOZILLA0001', ['foo=bar; max-age=-1'], undefined, undefined],
  ['MOZILLA0002', ['foo=bar; max-age=0'], undefined, undefined],
  ['MOZILLA0003', ['foo=bar; expires=Thu, 10 Apr 1980 16:33:12 GMT'], undefined, undefined],
  ['MOZILLA0004', ['foo=bar; max-age=60'], undefined, 'foo=bar'],
  ['MOZILLA0005', ['foo=bar; max-age=-20'], undefined, undefined],
  ['MOZILLA0006', ['foo=bar; max-age=60'], undefined, 'foo=bar'],
  ['MOZILLA0007', ['foo=bar; expires=Thu, 10 Apr 1980 16:33:12 GMT'], undefined, undefined],
  ['MOZILLA0008', ['foo=bar; max-age=60', 'foo1=bar; max-age=60'], undefined, 'foo=bar; foo1=bar'],
  [
    'MOZILLA0009',
    ['foo=bar; max-age=60', 'foo1=bar; max-age=60', 'foo=differentvalue; max-age=0'],
    undefined,
    'foo1=bar',
  ],
  [
    'MOZILLA0010',
    [
      'foo=bar; max-age=60',
      'foo1=bar; max-age=60',
      'foo=differentvalue; max-age=0',
      'foo2=evendifferentvalue; max-age=0',
    ],
    undefined,
    'foo1=bar',
  ],
  [
    'MOZILLA0011',
    ['test=parser; domain=.parser.test; ;; ;=; ,,, ===,abc,=; abracadabra! max-age=20;=;;'],
    undefined,
    undefined,
  ],
  [
    'MOZILLA0012',
    ['test="fubar! = foo;bar\\";" parser; max-age=6', 'five; max-age=2.63,'],
    undefined,
    'test="fubar! = foo',
  ],
  ['MOZILLA0013', ['test=kill; max-age=0', 'five; max-age=0'], undefined, undefined],
  ['MOZILLA0014', ['six'], undefined, undefined],
  ['MOZILLA0015', ['six', 'seven'], undefined, undefined],
  ['MOZILLA0016', ['six', 'seven', ' =eight'], undefined, undefined],
  ['MOZILLA0017', ['six', 'seven', ' =eight', 'test=six'], undefined, 'test=six'],
  ['NAME0001', ['a=bar'], undefined, 'a=bar'],
  ['NAME0002', ['1=bar'], undefined, '1=bar'],
  ['NAME0003', ['$=bar'], undefined, '$=bar'],
  ['NAME0004', ['!a=bar'], undefined, '!a=bar'],
  ['NAME0005', ['@a=bar'], undefined, '@a=bar'],
  ['NAME0006', ['#a=bar'], undefined, '#a=bar'],
  ['NAME0007', ['$a=bar'], undefined, '$a=bar'],
  ['NAME0008', ['%a=bar'], undefined, '%a=bar'],
  ['NAME0009', ['^a=bar'], undefined, '^a=bar'],
  ['NAME0010', ['&a=bar'], undefined, '&a=bar'],
  ['NAME0011', ['*a=bar'], undefined, '*a=bar'],
  ['NAME0012', ['(a=bar'], undefined, '(a=bar'],
  ['NAME0013', [')a=bar'], undefined, ')a=bar'],
  ['NAME0014', ['-a=bar'], undefined, '-a=bar'],
  ['NAME0015', ['_a=bar'], undefined, '_a=bar'],
  ['NAME0016', ['+=bar'], undefined, '+=bar'],
  ['NAME0017', ['=a=bar'], undefined, undefined],
  ['NAME0018', ['a =bar'], undefined, 'a=bar'],
  ['NAME0019', ['"a=bar'], undefined, '"a=bar'],
  ['NAME0020', ['"a=b"=bar'], undefined, '"a=b"=bar'],
  ['NAME0021', ['"a=b"=bar', '"a=qux'], undefined, '"a=qux'],
  ['NAME0022', ['   foo=bar'], undefined, 'foo=bar'],
  ['NAME0023', ['foo;bar=baz'], undefined, undefined],
  ['NAME0024', ['$Version=1; foo=bar'], undefined, '$Version=1'],
  ['NAME0025', ['===a=bar'], undefined, undefined],
  ['NAME0026', ['foo=bar    '], undefined, 'foo=bar'],
  ['NAME0027', ['foo=bar    ;'], undefined, 'foo=bar'],
  ['NAME0028', ['=a'], undefined, undefined],
  ['NAME0029', ['='], undefined, undefined],
  ['NAME0030', ['foo bar=baz'], undefined, 'foo bar=baz'],
  ['NAME0031', ['"foo;bar"=baz'], undefined, undefined],
  ['NAME0032', ['"foo\\"bar;baz"=qux'], undefined, undefined],
  ['NAME0033', ['=foo=bar', 'aaa'], undefined, undefined],
  [
    'OPTIONAL_DOMAIN0030',
    ['foo=bar; domain='],
    'http://home.example.org:8888/cookie-parser-result?optional-domain0030',
    'foo=bar',
  ],
  [
    'OPTIONAL_DOMAIN0041',
    ['foo=bar; domain=example.org; domain='],
    'http://home.example.org:8888/cookie-parser-result?optional-domain0041',
    'foo=bar',
  ],
  [
    'OPTIONAL_DOMAIN0042',
    ['foo=bar; domain=foo.example.org; domain='],
    'http://home.example.org:8888/cookie-parser-result?optional-domain0042',
    undefined,
  ],
  [
    'OPTIONAL_DOMAIN0043',
    ['foo=bar; domain=foo.example.org; domain='],
    'http://subdomain.home.example.org:8888/cookie-parser-result?optional-domain0043',
    undefined,
  ],
  [
    'ORDERING0001',
    [
      'key=val0;',
      'key=val1; path=/cookie-parser-result',
      'key=val2; path=/',
      'key=val3; path=/bar',
      'key=val4; domain=.example.org',
      'key=val5; domain=.example.org; path=/cookie-parser-result/foo',
    ],
    '/cookie-parser-result/foo/baz?ordering0001',
    'key=val5; key=val1; key=val2; key=val4',
  ],
  ['PATH0001', ['a=b; path=/', 'x=y; path=/cookie-parser-result'], undefined, 'x=y; a=b'],
  ['PATH0002', ['a=b; path=/cookie-parser-result', 'x=y; path=/'], undefined, 'a=b; x=y'],
  ['PATH0003', ['x=y; path=/', 'a=b; path=/cookie-parser-result'], undefined, 'a=b; x=y'],
  ['PATH0004', ['x=y; path=/cookie-parser-result', 'a=b; path=/'], undefined, 'x=y; a=b'],
  ['PATH0005', ['foo=bar; path=/cookie-parser-result/foo'], undefined, undefined],
  ['PATH0006', ['foo=bar', 'foo=qux; path=/cookie-parser-result/foo'], undefined, 'foo=bar'],
  [
    'PATH0007',
    ['foo=bar; path=/cookie-parser-result/foo'],
    '/cookie-parser-result/foo?path0007',
    'foo=bar',
  ],
  [
    'PATH0008',
    ['foo=bar; path=/cookie-parser-result/foo'],
    '/cookie-parser-result/bar?path0008',
    undefined,
  ],
  [
    'PATH0009',
    ['foo=bar; path=/cookie-parser-result/foo/qux'],
    '/cookie-parser-result/foo?path0009',
    undefined,
  ],
  [
    'PATH0010',
    ['foo=bar; path=/cookie-parser-result/foo/qux'],
    '/cookie-parser-result/foo/qux?path0010',
    'foo=bar',
  ],
  [
    'PATH0011',
    ['foo=bar; path=/cookie-parser-result/foo/qux'],
    '/cookie-parser-result/bar/qux?path0011',
    undefined,
  ],
  [
    'PATH0012',
    ['foo=bar; path=/cookie-parser-result/foo/qux'],
    '/cookie-parser-result/foo/baz?path0012',
    undefined,
  ],
  [
    'PATH0013',
    ['foo=bar; path=/cookie-parser-result/foo/qux/'],
    '/cookie-parser-result/foo/baz?path0013',
    undefined,
  ],
  [
    'PATH0014',
    ['foo=bar; path=/cookie-parser-result/foo/qux/'],
    '/cookie-parser-result/foo/qux?path0014',
    undefined,
  ],
  [
    'PATH0015',
    ['foo=bar; path=/cookie-parser-result/foo/qux/'],
    '/cookie-parser-result/foo/qux/?path0015',
    'foo=bar',
  ],
  [
    'PATH0016',
    ['foo=bar; path=/cookie-parser-result/foo/'],
    '/cookie-parser-result/foo/qux?path0016',
    'foo=bar',
  ],
  [
    'PATH0017',
    ['foo=bar; path=/cookie-parser-result/foo/'],
    '/cookie-parser-result/foo//qux?path0017',
    'foo=bar',
  ],
  [
    'PATH0018',
    ['foo=bar; path=/cookie-parser-result/foo/'],
    '/cookie-parser-result/fooqux?path0018',
    undefined,
  ],
  ['PATH0019', ['foo=bar; path'], undefined, 'foo=bar'],
  ['PATH0020', ['foo=bar; path='], undefined, 'foo=bar'],
  ['PATH0021', ['foo=bar; path=/'], undefined, 'foo=bar'],
  ['PATH0022', ['foo=bar; path= /'], undefined, 'foo=bar'],
  ['PATH0023', ['foo=bar; Path=/cookie-PARSER-result'], undefined, undefined],
  [
    'PATH0024',
    ['foo=bar; path=/cookie-parser-result/foo/qux?'],
    '/cookie-parser-result/foo/qux?path0024',
    undefined,
  ],
  [
    'PATH0025',
    ['foo=bar; path=/cookie-parser-result/foo/qux#'],
    '/cookie-parser-result/foo/qux?path0025',
    undefined,
  ],
  [
    'PATH0026',
    ['foo=bar; path=/cookie-parser-result/foo/qux;'],
    '/cookie-parser-result/foo/qux?path0026',
    'foo=bar',
  ],
  [
    'PATH0027',
    ['foo=bar; path="/cookie-parser-result/foo/qux;"'],
    '/cookie-parser-result/foo/qux?path0027',
    'foo=bar',
  ],
  [
    'PATH0028',
    ['foo=bar; path=/cookie-parser-result/f%6Fo/bar'],
    '/cookie-parser-result/foo/bar?path0028',
    undefined,
  ],
  [
    'PATH0029',
    ['a=b; \tpath\t=\t/cookie-parser-result\t', 'x=y; \tpath\t=\t/book\t'],
    undefined,
    'a=b',
  ],
  ['PATH0030', ['foo=bar; path=/dog; path='], undefined, 'foo=bar'],
  ['PATH0031', ['foo=bar; path=; path=/dog'], undefined, undefined],
  [
    'PATH0032',
    ['foo=bar; path=/cookie-parser-result', 'foo=qux; path=/cookie-parser-result/'],
    '/cookie-parser-result/dog?path0032',
    'foo=qux; foo=bar',
  ],
  ['VALUE0001', ['foo=  bar'], undefined, 'foo=bar'],
  ['VALUE0002', ['foo="bar"'], undefined, 'foo="bar"'],
  ['VALUE0003', ['foo="  bar "'], undefined, 'foo="  bar "'],
  ['VALUE0004', ['foo="bar;baz"'], undefined, 'foo="bar'],
  ['VALUE0005', ['foo="bar=baz"'], undefined, 'foo="bar=baz"'],
  ['VALUE0006', ['\tfoo\t=\tbar\t \t;\tttt'], undefined, 'foo=bar'],
];

describe('CookieJar: the http-state parser corpus', () => {
  for (const [name, received, sentTo, expected] of CORPUS) {
    test(name, () => {
      const { jar } = jarAt();
      const from = `http://home.example.org:8888/cookie-parser?${name.toLowerCase()}`;
      for (const header of received) jar.setCookie(header, from);
      const to = new URL(sentTo ?? `/cookie-parser-result?${name.toLowerCase()}`, from).href;
      assert.equal(jar.getCookieHeader(to), expected);
    });
  }
});

describe('CookieJar: the examples of RFC 6265 §3.1', () => {
  test('a host-only session cookie comes back to its host', () => {
    const { jar } = jarAt();
    jar.setCookie('SID=31d4d96e407aad42', 'http://example.com/');
    assert.equal(jar.getCookieHeader('http://example.com/any/path'), 'SID=31d4d96e407aad42');
    assert.equal(jar.getCookieHeader('http://www.example.com/'), undefined);
  });

  test('cookies with Domain go to subdomains too', () => {
    const { jar } = jarAt();
    jar.setCookie('SID=31d4d96e407aad42; Path=/; Domain=example.com', 'http://example.com/');
    jar.setCookie('lang=en-US; Path=/; Domain=example.com', 'http://example.com/');
    const header = 'SID=31d4d96e407aad42; lang=en-US';
    assert.equal(jar.getCookieHeader('http://example.com/'), header);
    assert.equal(jar.getCookieHeader('http://www.example.com/x'), header);
  });

  test('a Secure HttpOnly cookie goes over https only; HttpOnly is kept', () => {
    const { jar } = jarAt();
    const sid = jar.setCookie(
      'SID=31d4d96e407aad42; Path=/; Secure; HttpOnly',
      'https://example.com/',
    );
    jar.setCookie('lang=en-US; Path=/; Domain=example.com', 'https://example.com/');
    assert.equal(sid?.secure, true);
    assert.equal(sid?.httpOnly, true);
    assert.equal(jar.getCookieHeader('https://example.com/'), 'SID=31d4d96e407aad42; lang=en-US');
    assert.equal(jar.getCookieHeader('http://example.com/'), 'lang=en-US');
  });

  test('a persistent cookie lasts until its Expires, and one expired on arrival deletes it', () => {
    const { jar, clock } = jarAt(Date.UTC(2021, 5, 1) / 1000);
    jar.setCookie('SID=31d4d96e407aad42; Path=/; Secure; HttpOnly', 'https://example.com/');
    const lang = jar.setCookie(
      'lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT',
      'https://example.com/',
    );
    assert.equal(lang?.expires, Date.UTC(2021, 5, 9, 10, 18, 14) / 1000);
    assert.equal(jar.getCookieHeader('https://example.com/'), 'SID=31d4d96e407aad42; lang=en-US');
    assert.equal(
      jar.setCookie('lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT', 'https://example.com/'),
      undefined,
    );
    assert.equal(jar.getCookieHeader('https://example.com/'), 'SID=31d4d96e407aad42');
    jar.setCookie('lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT', 'https://example.com/');
    clock.advance(9 * 86400);
    assert.equal(jar.getCookieHeader('https://example.com/'), 'SID=31d4d96e407aad42');
  });
});

describe('CookieJar: cookie dates (RFC 6265 §5.1.1)', () => {
  const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number =>
    Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

  const parsed: [string, number][] = [
    // The three HTTP date forms, and what servers send besides.
    ['Sun, 06 Nov 1994 08:49:37 GMT', utc(1994, 11, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', utc(1994, 11, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', utc(1994, 11, 6, 8, 49, 37)],
    // From the http-state date examples (tests/data/dates).
    ['Mon, 10-Dec-2007 17:02:24 GMT', utc(2007, 12, 10, 17, 2, 24)],
    ['Thursday, 01-Jan-1970 00:00:00 GMT', 0],
    ['Wednesday, 01-Jan-10 00:00:00 GMT', utc(2010, 1, 1, 0, 0, 0)],
    ['Wed, 1 Jan 2020 00:00:00 GMT', utc(2020, 1, 1, 0, 0, 0)],
    ['Thu, 31 Dec 23:55:55 2037 GMT', utc(2037, 12, 31, 23, 55, 55)],
    ['Wed Dec 12 2007 08:44:07 GMT-0500 (EST)', utc(2007, 12, 12, 8, 44, 7)],
    ['Wednesday, 01-Jan-10 0:0:00 GMT', utc(2010, 1, 1, 0, 0, 0)],
    ['Thu, 10 Dec 2009 13:57:2 GMT', utc(2009, 12, 10, 13, 57, 2)],
    ['Thu, 19/Apr\\2007 16:00:00 GMT', utc(2007, 4, 19, 16, 0, 0)],
    ['WillyWonka  ,  18-apr-07   22:50:12', utc(2007, 4, 18, 22, 50, 12)],
    ['Mon, 18-Apr-77 22:50:13 GMT', utc(1977, 4, 18, 22, 50, 13)],
    ['"Sat, 15-Apr-17\\"21:01:22\\"GMT"', utc(2017, 4, 15, 21, 1, 22)],
    ['Partyday, 18- April-07 22:50:12', utc(2007, 4, 18, 22, 50, 12)],
    ['Wednes, 1-Januar-2003 00:00:00 GMT', utc(2003, 1, 1, 0, 0, 0)],
    ['Sat, 15-Apr-17 21:01:22 GMT-0400 (EDT)', utc(2017, 4, 15, 21, 1, 22)],
    ['Sat, 15-Apr-17 21:01:22 11:22:33', utc(2017, 4, 15, 21, 1, 22)],
    ['Sat, 15-Apr-17 ::00 21:01:22', utc(2017, 4, 15, 21, 1, 22)],
    ['22:50:12 Thu Apr 18 2007 GMT', utc(2007, 4, 18, 22, 50, 12)],
    ['15-Sat, Apr 21:01:22 GMT 17', utc(2017, 4, 15, 21, 1, 22)],
    ['15 17 Apr 21:01:22', utc(2017, 4, 15, 21, 1, 22)],
    ['2017 April 15 21:01:22', utc(2017, 4, 15, 21, 1, 22)],
    ['29 Feb 2024 12:00:00', utc(2024, 2, 29, 12, 0, 0)],
  ];
  for (const [text, seconds] of parsed) {
    test(`parses ${JSON.stringify(text)}`, () => assert.equal(parseCookieDate(text), seconds));
  }

  const refused = [
    'Sat, 15-Apr-17 91:22:33 21:01:22', // the first time is out of range
    '98 April 17 21:01:22', // day 98
    'Thu, 012-Aug-2008 20:49:07 GMT', // no day: 012 is a year
    'Thu, 12-Aug-31841 20:49:07 GMT', // no year
    'Thu, 12-Aug-2007 20:61:99999999999 GMT', // no time
    'IAintNoDateFool',
    '',
    'Sat, 15 Apr 1600 21:01:22', // before 1601
    '31 Feb 2023 00:00:00', // no such day
    'Mon, 01-Jan-2011 00: 00:00 GMT', // "00:" is not a time (the draft example accepted it)
  ];
  for (const text of refused) {
    test(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseCookieDate(text), undefined));
  }
});

describe('CookieJar: storage', () => {
  test('Max-Age wins over Expires, whichever comes first, and counts from the clock', () => {
    const { jar, clock } = jarAt();
    const a = jar.setCookie(
      'a=1; Max-Age=60; Expires=Fri, 07 Aug 2037 08:04:19 GMT',
      'http://x.test/',
    );
    const b = jar.setCookie(
      'b=1; Expires=Fri, 07 Aug 2037 08:04:19 GMT; Max-Age=60',
      'http://x.test/',
    );
    assert.equal(a?.expires, CORPUS_NOW + 60);
    assert.equal(b?.expires, CORPUS_NOW + 60);
    clock.advance(59);
    assert.equal(jar.getCookieHeader('http://x.test/'), 'a=1; b=1');
    clock.advance(1);
    assert.equal(jar.getCookieHeader('http://x.test/'), undefined);
    assert.equal(jar.size, 0);
  });

  test('an invalid Max-Age or Expires is ignored, leaving a session cookie', () => {
    const { jar } = jarAt();
    for (const attributes of ['Max-Age=1.5', 'Max-Age=+5', 'Max-Age=', 'Expires=soon']) {
      assert.equal(
        jar.setCookie(`a=1; ${attributes}`, 'http://x.test/')?.expires,
        undefined,
        attributes,
      );
    }
  });

  test('attribute names are case-insensitive, SameSite is kept, the last Path wins', () => {
    const { jar } = jarAt();
    const c = jar.setCookie(
      'a=1; SECURE; hTTpOnLy; sAmEsItE=lax; PATH=/x; path=/y',
      'https://x.test/',
    );
    assert.deepEqual(
      { secure: c?.secure, httpOnly: c?.httpOnly, sameSite: c?.sameSite, path: c?.path },
      { secure: true, httpOnly: true, sameSite: 'Lax', path: '/y' },
    );
    assert.equal(jar.setCookie('b=1; SameSite=Bogus', 'https://x.test/')?.sameSite, undefined);
  });

  test('the default path is the request path up to its last "/"', () => {
    const { jar } = jarAt();
    assert.equal(jar.setCookie('a=1', 'http://x.test/docs/page.html?q')?.path, '/docs');
    assert.equal(jar.setCookie('b=1', 'http://x.test/page')?.path, '/');
    assert.equal(jar.setCookie('c=1; Path=relative', 'http://x.test/docs/a/b')?.path, '/docs/a');
    assert.equal(jar.getCookieHeader('http://x.test/docs/a/b'), 'c=1; a=1; b=1');
    assert.equal(jar.getCookieHeader('http://x.test/docsx'), 'b=1');
  });

  test('a cookie replacing another of the same name, domain and path keeps its creation time and place', () => {
    const { jar, clock } = jarAt();
    jar.setCookie('a=1', 'http://x.test/');
    clock.advance(10);
    jar.setCookie('b=2', 'http://x.test/');
    clock.advance(10);
    const replaced = jar.setCookie('a=3', 'http://x.test/');
    assert.equal(replaced?.creationTime, CORPUS_NOW);
    assert.equal(replaced?.lastAccessTime, CORPUS_NOW + 20);
    assert.equal(jar.getCookieHeader('http://x.test/'), 'a=3; b=2');
    // Another path is another cookie.
    jar.setCookie('a=4; Path=/p', 'http://x.test/');
    assert.equal(jar.getCookieHeader('http://x.test/p'), 'a=4; a=3; b=2');
  });

  test('a Domain cookie replaces a host-only one of the same name, domain and path (§5.3 step 11)', () => {
    const { jar } = jarAt();
    jar.setCookie('a=host', 'http://www.x.test/');
    const replaced = jar.setCookie('a=domain; Domain=www.x.test', 'http://www.x.test/');
    assert.equal(replaced?.hostOnly, false);
    assert.equal(jar.getCookieHeader('http://www.x.test/'), 'a=domain');
    assert.equal(jar.getCookieHeader('http://sub.www.x.test/'), 'a=domain');
    jar.setCookie('a=parent; Domain=x.test', 'http://www.x.test/');
    assert.equal(jar.getCookieHeader('http://www.x.test/'), 'a=domain; a=parent');
  });

  test('Domain: single-label names are public suffixes, refused unless they are the host itself', () => {
    const { jar } = jarAt();
    assert.equal(jar.setCookie('a=1; Domain=test', 'http://x.test/'), undefined);
    assert.equal(jar.setCookie('a=1; Domain=.com', 'http://example.com/'), undefined);
    const local = jar.setCookie('a=1; Domain=localhost', 'http://localhost:8080/');
    assert.equal(local?.hostOnly, true);
    assert.equal(local?.domain, 'localhost');
    // Without a public-suffix list, co.uk is not known as one...
    assert.equal(jar.setCookie('b=1; Domain=co.uk', 'http://a.co.uk/')?.domain, 'co.uk');
    // ...unless a list says so.
    const strict = jarAt(CORPUS_NOW, { isPublicSuffix: (d) => ['uk', 'co.uk'].includes(d) }).jar;
    assert.equal(strict.setCookie('b=1; Domain=co.uk', 'http://a.co.uk/'), undefined);
    assert.equal(strict.setCookie('b=1; Domain=a.co.uk', 'http://www.a.co.uk/')?.domain, 'a.co.uk');
  });

  test('Domain on an IP address: only the address itself; no subdomain matching', () => {
    const { jar } = jarAt();
    assert.equal(jar.setCookie('a=1; Domain=127.0.0.2', 'http://127.0.0.1/'), undefined);
    assert.equal(jar.setCookie('a=1; Domain=0.0.1', 'http://127.0.0.1/'), undefined);
    assert.equal(jar.setCookie('b=1; Domain=127.0.0.1', 'http://127.0.0.1/')?.hostOnly, false);
    jar.setCookie('c=1', 'http://[::1]:8080/');
    assert.equal(jar.getCookieHeader('http://127.0.0.1:9999/'), 'b=1');
    assert.equal(jar.getCookieHeader('http://[::1]/'), 'c=1');
  });

  test('an internationalized Domain is matched in its ASCII form', () => {
    const { jar } = jarAt();
    const c = jar.setCookie('a=1; Domain=BÜCHER.example', 'http://www.bücher.example/');
    assert.equal(c?.domain, 'xn--bcher-kva.example');
    assert.equal(jar.getCookieHeader('http://shop.xn--bcher-kva.example/'), 'a=1');
  });

  test('ports do not matter; the scheme only for Secure', () => {
    const { jar } = jarAt();
    jar.setCookie('a=1', 'http://x.test:8080/');
    assert.equal(jar.getCookieHeader('https://x.test/'), 'a=1');
  });

  test('a cookie with control characters or a name and value past maxCookieSize is ignored', () => {
    const { jar } = jarAt(CORPUS_NOW, { maxCookieSize: 10 });
    assert.equal(jar.setCookie('a=b\x01c', 'http://x.test/'), undefined);
    assert.equal(jar.setCookie('abcde=fghijk', 'http://x.test/'), undefined);
    assert.ok(jar.setCookie('abcde=fghij', 'http://x.test/'));
  });

  test('past maxCookiesPerDomain the least recently used of that domain goes', () => {
    const { jar, clock } = jarAt(CORPUS_NOW, { maxCookiesPerDomain: 3 });
    for (const name of ['a', 'b', 'c']) {
      jar.setCookie(`${name}=1`, 'http://x.test/');
      clock.advance(1);
    }
    jar.setCookie('other=1', 'http://y.test/');
    jar.getCookies('http://x.test/'); // all used now; then a alone again
    clock.advance(1);
    jar.setCookie('b=2', 'http://x.test/');
    jar.setCookie('c=2', 'http://x.test/');
    clock.advance(1);
    jar.setCookie('d=1', 'http://x.test/');
    assert.equal(jar.getCookieHeader('http://x.test/'), 'b=2; c=2; d=1');
    assert.equal(jar.getCookieHeader('http://y.test/'), 'other=1');
  });

  test('past maxCookies the least recently used of all goes', () => {
    const { jar, clock } = jarAt(CORPUS_NOW, { maxCookies: 2 });
    jar.setCookie('a=1', 'http://a.test/');
    clock.advance(1);
    jar.setCookie('b=1', 'http://b.test/');
    clock.advance(1);
    jar.getCookies('http://a.test/');
    jar.setCookie('c=1', 'http://c.test/');
    assert.deepEqual(
      [...jar].map((c) => c.name),
      ['a', 'c'],
    );
  });

  test('limits must be positive integers', () => {
    const clock = new Clock();
    assert.throws(
      () => new CookieJar(clock, { maxCookies: 0 }),
      /maxCookies must be a positive integer/,
    );
    assert.throws(() => new CookieJar(clock, { maxCookiesPerDomain: 1.5 }), RangeError);
  });

  test('a URL that is not http or https is refused with InvalidURIError', () => {
    const { jar } = jarAt();
    assert.throws(() => jar.setCookie('a=1', 'ftp://x.test/'), InvalidURIError);
    assert.throws(() => jar.getCookieHeader('not a url'), InvalidURIError);
  });

  test('clear() empties the jar, clear(domain) one domain, clearSession() the session cookies', () => {
    const { jar } = jarAt();
    jar.setCookie('a=1', 'http://a.test/');
    jar.setCookie('b=1; Max-Age=100', 'http://b.test/');
    jar.setCookie('c=1', 'http://b.test/');
    jar.clearSession();
    assert.deepEqual(
      [...jar].map((c) => c.name),
      ['b'],
    );
    jar.setCookie('a=1', 'http://a.test/');
    jar.clear('a.test');
    assert.deepEqual(
      [...jar].map((c) => c.name),
      ['b'],
    );
    jar.clear();
    assert.equal(jar.size, 0);
  });
});

describe('CookieJar: persistence', () => {
  test('toJSON and fromJSON keep every field, the order and the creation times', () => {
    const { jar, clock } = jarAt();
    jar.setCookie(
      'a=1; Domain=x.test; Path=/p; Secure; HttpOnly; SameSite=Strict; Max-Age=100',
      'https://www.x.test/',
    );
    clock.advance(5);
    jar.setCookie('b=2', 'http://x.test/');
    const text = JSON.stringify(jar);
    const copy = CookieJar.fromJSON(clock, JSON.parse(text));
    assert.deepEqual([...copy], [...jar]);
    assert.equal(JSON.stringify(copy), text);
    assert.equal(copy.getCookieHeader('https://www.x.test/p/q'), 'a=1');
    const json = jar.toJSON();
    assert.equal(json.cookies[1]?.expires, null);
    assert.equal(json.cookies[0]?.sameSite, 'Strict');
  });

  test('cookies expired by load time are dropped', () => {
    const { jar, clock } = jarAt();
    jar.setCookie('a=1; Max-Age=10', 'http://x.test/');
    jar.setCookie('b=1', 'http://x.test/');
    const json = jar.toJSON();
    clock.advance(10);
    assert.deepEqual(
      [...CookieJar.fromJSON(clock, json)].map((c) => c.name),
      ['b'],
    );
  });

  test('malformed JSON is refused with an error naming the cookie and the field', () => {
    const clock = new Clock();
    assert.throws(() => CookieJar.fromJSON(clock, []), /not a cookie jar in JSON/);
    assert.throws(() => CookieJar.fromJSON(clock, { version: 1 }), /"cookies" is not an array/);
    const good = {
      name: 'a',
      value: '1',
      domain: 'x.test',
      hostOnly: true,
      path: '/',
      expires: null,
      secure: false,
      httpOnly: false,
      creationTime: 0,
      lastAccessTime: 0,
    };
    assert.equal(CookieJar.fromJSON(clock, { version: 1, cookies: [good] }).size, 1);
    const bad = (change: object): unknown => ({
      version: 1,
      cookies: [good, { ...good, ...change }],
    });
    assert.throws(
      () => CookieJar.fromJSON(clock, bad({ secure: 'yes' })),
      /cookie 1 of the jar's JSON: "secure" is not a boolean/,
    );
    assert.throws(
      () => CookieJar.fromJSON(clock, bad({ expires: 'never' })),
      /"expires" is not a finite number/,
    );
    assert.throws(
      () => CookieJar.fromJSON(clock, bad({ path: 'x' })),
      /"path" does not start with "\/"/,
    );
    assert.throws(() => CookieJar.fromJSON(clock, bad({ sameSite: 'lax' })), /"sameSite"/);
    assert.throws(() => CookieJar.fromJSON(clock, bad({ name: '' })), /the name is empty/);
  });
});

describe('CookieJar: properties', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,12}$/);
  const cookieValue = fc.stringMatching(/^[A-Za-z0-9!#$%&'()*+\-./:<>?@[\]^_`{|}~]{0,16}$/);
  const segment = fc.stringMatching(/^[a-z0-9]{1,5}$/);

  test('a cookie set by a URL is sent back to it, once, whatever its name, value and path', () => {
    fc.assert(
      fc.property(
        token,
        cookieValue,
        fc.array(segment, { maxLength: 4 }),
        (name, value, segments) => {
          const { jar } = jarAt();
          const url = `http://x.test/${segments.join('/')}`;
          jar.setCookie(`${name}=${value}`, url);
          jar.setCookie(`${name}=${value}`, url);
          assert.equal(jar.getCookieHeader(url), `${name}=${value}`);
        },
      ),
      { seed: 13, numRuns: 200 },
    );
  });

  test('the Cookie header lists longer paths first, and each cookie path-matches the URL', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(token, fc.array(segment, { maxLength: 3 })), { maxLength: 8 }),
        fc.array(segment, { maxLength: 4 }),
        (cookies, requestSegments) => {
          const { jar } = jarAt();
          for (const [name, segments] of cookies) {
            jar.setCookie(`${name}=v; Path=/${segments.join('/')}`, 'http://x.test/');
          }
          const requestPath = `/${requestSegments.join('/')}`;
          const sent = jar.getCookies(`http://x.test${requestPath}`);
          for (let i = 1; i < sent.length; i++) {
            assert.ok((sent[i - 1]?.path.length ?? 0) >= (sent[i]?.path.length ?? 0));
          }
          for (const cookie of sent) {
            assert.ok(
              requestPath === cookie.path ||
                requestPath.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`),
              `${cookie.path} sent to ${requestPath}`,
            );
          }
        },
      ),
      { seed: 13, numRuns: 200 },
    );
  });
});
