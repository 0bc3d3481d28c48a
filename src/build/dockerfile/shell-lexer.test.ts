import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { expand, expandWords, processWord } from './shell-lexer.js';

const env = { HOME: '/root', EMPTY: '', FILE: 'archive.tar.gz', PATH_: '/a/b/c/d', SP: 'a  b', LEAD: '  x y ', K: '한국어' };

describe('expand (one word)', () => {
  // [input, expected]; 'error' = must throw.
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['$HOME', '/root'],
    ['${HOME}', '/root'],
    ['${HOME}x', '/rootx'],
    ['$HOMEx', ''],
    ['$HOME/x', '/root/x'],
    ['$UNSET', ''],
    ['a$UNSET-b', 'a-b'],
    ['$', '$'],
    ['$.', '$.'],
    ['a$', 'a$'],
    ['$1x', 'x'],
    ['$12x', 'x'],
    ['$@x', 'x'],
    ['$K!', '한국어!'],
    ['\\$HOME', '$HOME'],
    ['\\\\$HOME', '\\/root'],
    ['a\\ b', 'a b'],
    ['a\\tb', 'atb'],
    ['end\\', 'end'],
    ['end\\\\', 'end\\'],
    // single quotes: literal, no escapes
    ["'$HOME'", '$HOME'],
    ["'a\\tb'", 'a\\tb'],
    ["'a\\'", 'a\\'],
    ["he'll'o", 'hello'],
    ["he'llo", 'error'],
    ["he\\'llo", "he'llo"],
    // double quotes: $ expands, \ escapes only " $ \
    ['"$HOME"', '/root'],
    ['"\\$HOME"', '$HOME'],
    ['"a\\tb"', 'a\\tb'],
    ['"a\\\\tb"', 'a\\tb'],
    ['"a\\"b"', 'a"b'],
    ['"it\'s"', "it's"],
    ['"open', 'error'],
    ['"open\\"', 'error'],
    ['"$SP"', 'a  b'],
    ['$SP', 'a  b'],
    // ${VAR:-word} ${VAR-word}
    ['${UNSET:-def}', 'def'],
    ['${EMPTY:-def}', 'def'],
    ['${HOME:-def}', '/root'],
    ['${UNSET-def}', 'def'],
    ['${EMPTY-def}', ''],
    ['${UNSET:-$HOME}', '/root'],
    ['${UNSET:-a b}', 'a b'],
    ['${UNSET:-"q}"}', 'q}'],
    ['${UNSET:-\\}}', '}'],
    // ${VAR:+word} ${VAR+word}
    ['${HOME:+set}', 'set'],
    ['${EMPTY:+set}', ''],
    ['${EMPTY+set}', 'set'],
    ['${UNSET+set}', ''],
    ['${UNSET:+set}', ''],
    // ${VAR:?msg} ${VAR?msg}
    ['${HOME:?oops}', '/root'],
    ['${HOME?oops}', '/root'],
    ['${EMPTY?oops}', ''],
    ['${EMPTY:?oops}', 'error'],
    ['${UNSET?oops}', 'error'],
    ['${UNSET:?}', 'error'],
    // trimming with glob patterns
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${FILE#archive}', '.tar.gz'],
    ['${FILE#nomatch}', 'archive.tar.gz'],
    ['${FILE%.gz}', 'archive.tar'],
    ['${FILE#?}', 'rchive.tar.gz'],
    ['${FILE%???}', 'archive.tar'],
    ['${PATH_#*/}', 'a/b/c/d'],
    ['${PATH_##*/}', 'd'],
    ['${PATH_%/*}', '/a/b/c'],
    ['${PATH_%%/*}', ''],
    ['${UNSET#x}', ''],
    ['${FILE#a\\*}', 'archive.tar.gz'],
    ['${FILE#\\x}', 'error'],
    ['${FILE:#x}', 'error'],
    ['${FILE:%x}', 'error'],
    // ${VAR/pattern/repl}, ${VAR//pattern/repl}
    ['${PATH_/\\//:}', ':a/b/c/d'],
    ['${PATH_//\\//:}', ':a:b:c:d'],
    ['${FILE/.t*./-}', 'archive-gz'],
    ['${FILE/nomatch/x}', 'archive.tar.gz'],
    ['${FILE/a', 'error'],
    // syntax errors
    ['${', 'error'],
    ['${}', 'error'],
    ['${:x}', 'error'],
    ['${{x}', 'error'],
    ['${HOME', 'error'],
    ['${HOME:-x', 'error'],
    ['${HOME:x}', 'error'],
    ['${HOME=x}', 'error'],
    ['${HOME^}', 'error'],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${want}`, () => {
      if (want === 'error') assert.throws(() => expand(input, env), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
      else assert.equal(expand(input, env), want);
    });
  }

  // The examples of the Dockerfile reference, "Environment replacement".
  const reference: [string, Record<string, string>, string][] = [
    ['${variable:-word}', {}, 'word'],
    ['${variable:+word}', { variable: 'x' }, 'word'],
    ['${str#f*b}', { str: 'foobarbaz' }, 'arbaz'],
    ['${str##f*b}', { str: 'foobarbaz' }, 'az'],
    ['${string%b*}', { string: 'foobarbaz' }, 'foobar'],
    ['${string%%b*}', { string: 'foobarbaz' }, 'foo'],
    ['${string/ba/fo}', { string: 'foobarbaz' }, 'fooforbaz'],
    ['${string//ba/fo}', { string: 'foobarbaz' }, 'fooforfoz'],
    ['${FOO}', { FOO: '/bar' }, '/bar'],
    ['\\$FOO', { FOO: '/bar' }, '$FOO'],
    ['\\${FOO}', { FOO: '/bar' }, '${FOO}'],
  ];
  for (const [input, vars, want] of reference) {
    it(`reference: ${input} -> ${want}`, () => assert.equal(expand(input, vars), want));
  }

  it('takes a Map as the environment', () => {
    assert.equal(expand('${A}-$B', new Map([['A', '1'], ['B', '2']])), '1-2');
  });
  it('uses the backtick escape token', () => {
    assert.equal(expand('a`$HOME', env, { escapeToken: '`' }), 'a$HOME');
    assert.equal(expand('C:\\dir`\\x', env, { escapeToken: '`' }), 'C:\\dir\\x');
    assert.equal(expand('"a`"b"', env, { escapeToken: '`' }), 'a"b');
  });
  it('words its errors the way BuildKit does', () => {
    assert.throws(() => expand('${X:?must be set}', {}), { message: 'failed to process "${X:?must be set}": X: must be set' });
    assert.throws(() => expand('${X?}', {}), /X: is not allowed to be unset/);
    assert.throws(() => expand('${X:?}', { X: '' }), /X: is not allowed to be empty/);
    assert.throws(() => expand('"abc', {}), /unexpected end of statement while looking for matching double-quote/);
    assert.throws(() => expand("'abc", {}), /unexpected end of statement while looking for matching single-quote/);
    assert.throws(() => expand('${x', {}), /syntax error: missing '}'/);
    assert.throws(() => expand('${}', {}), /syntax error: bad substitution/);
    assert.throws(() => expand('${x:#a}', {}), /unsupported modifier \(:#\) in substitution/);
  });
  it('reports which names were used and which were unset', () => {
    const r = processWord('$HOME ${NOPE:-x} $EMPTY', env);
    assert.deepEqual([...r.matched].sort(), ['EMPTY', 'HOME']);
    assert.deepEqual([...r.unmatched], ['NOPE']);
  });
  it('keeps unset references with skipUnsetEnv, and quotes with rawQuotes', () => {
    assert.equal(expand('$NOPE ${NOPE} ${NOPE:-d} $HOME', env, { skipUnsetEnv: true }), '$NOPE ${NOPE} ${NOPE:-d} /root');
    assert.equal(expand(`"a" 'b'`, env, { rawQuotes: true }), `"a" 'b'`);
    assert.equal(expand(`a\\b`, env, { rawEscapes: true }), `a\\b`);
    assert.equal(expand(`"a $HOME"`, env, { skipProcessQuotes: true }), `"a /root"`);
  });
});

describe('expandWords (split into words)', () => {
  const cases: [string, string[] | 'error'][] = [
    ['a b  c', ['a', 'b', 'c']],
    ['  lead trail  ', ['lead', 'trail']],
    ['a\\ b', ['a b']],
    ['"a b" c', ['a b', 'c']],
    ["'a  b'c d", ['a  bc', 'd']],
    ['x$SP', ['xa', 'b']],
    ['x"$SP"y', ['xa  by']],
    ['$LEAD', ['x', 'y']],
    ['p$LEAD', ['p', 'x', 'y']],
    ['"$LEAD"', ['  x y ']],
    ['${UNSET}', []],
    ['""', []],
    ['80 443/tcp ${UNSET:-53/udp}', ['80', '443/tcp', '53/udp']],
    ['a"b', 'error'],
    ['a\\" b', ['a"', 'b']],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${JSON.stringify(want)}`, () => {
      if (want === 'error') assert.throws(() => expandWords(input, env), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
      else assert.deepEqual(expandWords(input, env), want);
    });
  }
});
