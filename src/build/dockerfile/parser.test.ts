import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { extractFlags, parseWords } from './line-parsers.js';
import { parse, type Node } from './parser.js';

/** The parts of a node a test usually cares about. */
const brief = (n: Node): unknown => ({ keyword: n.keyword, flags: n.flags, args: n.args, json: n.json, lines: [n.startLine, n.endLine] });
const nodes = (text: string): unknown[] => parse(text).nodes.map(brief);

describe('parse: directives', () => {
  it('reads syntax, escape and check at the top', () => {
    const r = parse('# syntax=docker/dockerfile:1\n#escape = `\n# check=skip=all\nFROM a\n');
    assert.deepEqual(r.directives, [
      { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
      { name: 'escape', value: '`', line: 2 },
      { name: 'check', value: 'skip=all', line: 3 },
    ]);
    assert.equal(r.escapeToken, '`');
  });
  it('is case-insensitive in the name', () => {
    assert.equal(parse('# ESCAPE=`\nFROM a').escapeToken, '`');
  });
  const ignored: [string, string][] = [
    ['after an instruction', 'FROM a\n# escape=`\nRUN x'],
    ['after a comment', '# hello\n# escape=`\nFROM a'],
    ['after an empty line', '\n# escape=`\nFROM a'],
    ['after an unknown directive', '# unknown=x\n# escape=`\nFROM a'],
    ['with a line continuation', '# esc \\\ndirective=`\nFROM a'],
  ];
  for (const [name, text] of ignored) {
    it(`is a plain comment ${name}`, () => {
      const r = parse(text);
      assert.equal(r.escapeToken, '\\');
      assert.deepEqual(r.directives, []);
    });
  }
  it('refuses a repeated directive and a bad escape token', () => {
    assert.throws(() => parse('# escape=\\\n# escape=`\nFROM a'), { message: 'Dockerfile:2: only one escape parser directive can be used' });
    assert.throws(() => parse('# escape=x\nFROM a'), (e) => isGantryError(e, 'INVALID_ARGUMENT') && /invalid escape token 'x' does not match ` or \\/.test(e.message));
  });
  it('strips a byte-order mark', () => {
    assert.deepEqual(parse('\uFEFF# escape=`\nFROM a').escapeToken, '`');
  });
});

describe('parse: lines, comments and continuations', () => {
  it('joins continuation lines and keeps line numbers', () => {
    assert.deepEqual(nodes('FROM a\nRUN echo a \\\n  b \\\n  c\nRUN d'), [
      { keyword: 'FROM', flags: [], args: ['a'], json: false, lines: [1, 1] },
      { keyword: 'RUN', flags: [], args: ['echo a   b   c'], json: false, lines: [2, 4] },
      { keyword: 'RUN', flags: [], args: ['d'], json: false, lines: [5, 5] },
    ]);
  });
  it('skips comments between continuation lines and warns about empty ones', () => {
    const r = parse('FROM a\nRUN a \\\n# note\n\n  b\n');
    assert.deepEqual(r.nodes[1]?.args, ['a   b']);
    assert.deepEqual(r.warnings, [{ message: 'Empty continuation line found in: RUN a   b', line: 5 }]);
  });
  it('treats # only at line start as a comment', () => {
    assert.deepEqual(parse('FROM a\nRUN echo hello # world\n   # indented comment\nRUN b').nodes.map((n) => n.args), [['a'], ['echo hello # world'], ['b']]);
  });
  it('keeps comments above an instruction', () => {
    assert.deepEqual(parse('# one\n# two\nFROM a\n#\n# three\nRUN b').nodes.map((n) => n.comments), [['one', 'two'], ['three']]);
  });
  it('uses the backtick escape token', () => {
    const r = parse('# escape=`\nFROM windows\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n  /s');
    assert.deepEqual(r.nodes.map((n) => n.args), [['windows'], ['testfile.txt', 'c:\\'], ['dir c:\\   /s']]);
  });
  it('handles CRLF line endings and a last line without a newline', () => {
    assert.deepEqual(parse('FROM a\r\nRUN a \\\r\n b\r\nCMD c').nodes.map((n) => n.args), [['a'], ['a  b'], ['c']]);
  });
  it('keeps a continuation at the end of the file', () => {
    assert.deepEqual(parse('FROM a\nRUN a \\').nodes[1]?.args, ['a']);
  });
  it('keeps keyword case and original text', () => {
    const n = parse('from a\nrun  echo   x').nodes[1] as Node;
    assert.equal(n.keyword, 'run');
    assert.equal(n.original, 'run  echo   x');
  });
  it('refuses a file with no instructions', () => {
    assert.throws(() => parse('# just a comment\n\n'), { message: 'Dockerfile:2: file with no instructions' });
    assert.throws(() => parse('', { file: 'x/Containerfile' }), { message: 'x/Containerfile: file with no instructions' });
  });
});

describe('parse: flags and argument forms', () => {
  it('takes --flags before the arguments, with quotes', () => {
    assert.deepEqual(extractFlags('--from=build --chown="a b" src dst', '\\'), { rest: 'src dst', flags: ['--from=build', '--chown=a b'] });
    assert.deepEqual(extractFlags('--link -- --notaflag dst', '\\'), { rest: ' --notaflag dst', flags: ['--link'] });
    assert.deepEqual(extractFlags('--mount=type=cache,target=/x\\ y cmd', '\\'), { rest: 'cmd', flags: ['--mount=type=cache,target=/x y'] });
    assert.deepEqual(extractFlags('-x', '\\'), { rest: '-x', flags: [] });
  });
  it('detects JSON arrays and falls back to shell form', () => {
    assert.deepEqual(nodes('FROM a\nCMD ["a", "b c"]\nCMD [bad\nCMD ["a",]\nCMD [ "x" ] \nRUN  []'), [
      { keyword: 'FROM', flags: [], args: ['a'], json: false, lines: [1, 1] },
      { keyword: 'CMD', flags: [], args: ['a', 'b c'], json: true, lines: [2, 2] },
      { keyword: 'CMD', flags: [], args: ['[bad'], json: false, lines: [3, 3] },
      { keyword: 'CMD', flags: [], args: ['["a",]'], json: false, lines: [4, 4] },
      { keyword: 'CMD', flags: [], args: ['x'], json: true, lines: [5, 5] },
      { keyword: 'RUN', flags: [], args: [], json: true, lines: [6, 6] },
    ]);
  });
  it('refuses JSON arrays of non-strings', () => {
    assert.throws(() => parse('FROM a\nCMD ["a", 1]'), { message: 'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only' });
  });
  it('splits COPY, VOLUME, EXPOSE and FROM on white space only', () => {
    assert.deepEqual(nodes('COPY --chown=1 "a b" c\nVOLUME /a  /b\nEXPOSE 80\t443').map((n) => (n as { args: string[] }).args), [
      ['"a', 'b"', 'c'],
      ['/a', '/b'],
      ['80', '443'],
    ]);
  });
  it('splits ENV and LABEL into key/value/separator triples', () => {
    const r = parse('ENV a=1 b="x y" c=z\\ w\nENV legacy  value with  spaces\nLABEL "k 1"=v');
    assert.deepEqual(r.nodes.map((n) => n.args), [
      ['a', '1', '=', 'b', '"x y"', '=', 'c', 'z\\ w', '='],
      ['legacy', 'value with  spaces', ''],
      ['"k 1"', 'v', '='],
    ]);
    assert.throws(() => parse('ENV a=1 b'), { message: 'Dockerfile:1: Syntax error - can\'t find = in "b". Must be of the form: name=value' });
    assert.throws(() => parse('ENV a'), { message: 'Dockerfile:1: ENV must have two arguments' });
    assert.throws(() => parse('LABEL a'), { message: 'Dockerfile:1: LABEL must have two arguments' });
  });
  it('splits ARG into words keeping quotes', () => {
    assert.deepEqual(parse('ARG a b=2 c="x y"').nodes[0]?.args, ['a', 'b=2', 'c="x y"']);
    assert.deepEqual(parseWords(`a "b c" 'd e'f g\\ h "i\\"j" ""`, '\\'), ['a', '"b c"', "'d e'f", 'g\\ h', '"i\\"j"', '""']);
  });
  it('splits HEALTHCHECK into type and command', () => {
    assert.deepEqual(nodes('HEALTHCHECK --interval=5s CMD curl -f http://localhost/\nHEALTHCHECK CMD ["true"]\nHEALTHCHECK NONE'), [
      { keyword: 'HEALTHCHECK', flags: ['--interval=5s'], args: ['CMD', 'curl -f http://localhost/'], json: false, lines: [1, 1] },
      { keyword: 'HEALTHCHECK', flags: [], args: ['CMD', 'true'], json: true, lines: [2, 2] },
      { keyword: 'HEALTHCHECK', flags: [], args: ['NONE'], json: false, lines: [3, 3] },
    ]);
  });
  it('parses the ONBUILD trigger as a node', () => {
    const n = parse('ONBUILD ADD --chown=1 . /app/src').nodes[0] as Node;
    assert.deepEqual(n.args, ['ADD', '.', '/app/src']);
    assert.deepEqual(n.trigger?.flags, ['--chown=1']);
  });
});

describe('parse: here-documents', () => {
  it('reads one here-document', () => {
    const n = parse('FROM a\nRUN <<EOF\necho hi\necho $X\nEOF\nRUN b').nodes[1] as Node;
    assert.deepEqual(n.heredocs, [{ name: 'EOF', fileDescriptor: 0, chomp: false, expand: true, content: 'echo hi\necho $X\n' }]);
    assert.deepEqual([n.startLine, n.endLine], [2, 5]);
    assert.deepEqual(n.args, ['<<EOF']);
  });
  it('reads several per line, in order', () => {
    const n = parse('RUN <<A cat >x && <<B cat >y\na\nA\nb\nB\n').nodes[0] as Node;
    assert.deepEqual(n.heredocs.map((h) => [h.name, h.content]), [['A', 'a\n'], ['B', 'b\n']]);
  });
  it('strips tabs from the terminator with <<-, and keeps content raw', () => {
    const n = parse('RUN <<-EOT\n\tone\n\t\ttwo\n\tEOT\n').nodes[0] as Node;
    assert.deepEqual(n.heredocs, [{ name: 'EOT', fileDescriptor: 0, chomp: true, expand: true, content: '\tone\n\t\ttwo\n' }]);
  });
  const quoted: [string, string, boolean][] = [
    ['<<EOF', 'EOF', true],
    ['<<"EOF"', 'EOF', false],
    ["<<'EOF'", 'EOF', false],
    ['<<E"O"F', 'EOF', false],
    ['<< EOF', 'EOF', true],
    ['3<<EOF', 'EOF', true],
  ];
  for (const [word, name, expand] of quoted) {
    it(`${word}: name ${name}, expand ${expand}`, () => {
      const n = parse(`RUN ${word} cat\nx\n${name}\n`).nodes[0] as Node;
      assert.equal(n.heredocs[0]?.name, name);
      assert.equal(n.heredocs[0]?.expand, expand);
    });
  }
  it('records the file descriptor', () => {
    assert.equal(parse('RUN 3<<EOF cat\nx\nEOF').nodes[0]?.heredocs[0]?.fileDescriptor, 3);
  });
  it('reads here-documents for COPY, ADD and ONBUILD RUN, not for other instructions or exec form', () => {
    assert.equal(parse('COPY <<EOF /path\nx\nEOF').nodes[0]?.heredocs.length, 1);
    assert.equal(parse('ADD <<a <<b /dir/\n1\na\n2\nb').nodes[0]?.heredocs.length, 2);
    assert.equal(parse('ONBUILD RUN <<EOF\nx\nEOF').nodes[0]?.heredocs.length, 1);
    assert.deepEqual(parse('RUN ["<<EOF"]\nCMD x').nodes.length, 2);
    assert.deepEqual(parse('CMD <<EOF\nEOF').nodes.map((n) => n.keyword), ['CMD', 'EOF']);
    assert.equal(parse('RUN "<<NOHEREDOC"\n').nodes[0]?.heredocs.length, 0);
    assert.equal(parse('RUN echo a<<b').nodes[0]?.heredocs.length, 0);
  });
  it('keeps an empty here-document', () => {
    assert.equal(parse('RUN <<EMPTY\nEMPTY\n').nodes[0]?.heredocs[0]?.content, '');
  });
  it('refuses an unterminated here-document', () => {
    assert.throws(() => parse('FROM a\nRUN <<EOF\nnever ends\n'), { message: 'Dockerfile:2: unterminated heredoc' });
  });
});
