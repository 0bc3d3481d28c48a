// Expected outputs are what Go's text/template (with Docker's templates.go functions) prints
// for the same template and data; error texts are the ones `docker … --format` prints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGantryError } from '../../core/errors.js';
import { asMap, compileTemplate, GO_TYPE, MAP_LIKE, renderTemplate, type RenderOptions } from './go-template.js';

const row = {
  ID: 'sha256:4e3b9a7c1d2f8e6a5b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a',
  Name: 'web',
  Names: ['web', 'frontend', 'proxy'],
  Status: 'up',
  Size: 1234,
  CPU: 1.5,
  Ratio: 1234567.5,
  Count: 0,
  Running: true,
  Nothing: null,
  Unset: undefined,
  Labels: asMap({ 'com.example.team': 'infra', app: 'nginx', 'a&b': '<x>' }),
  Ports: [80, 443],
  Mount: { Source: '/src', RW: true },
  Created: new Date(Date.UTC(2024, 0, 2, 15, 4, 5)),
  Label(name: string): string {
    return `label:${name}`;
  },
};

type Case = [template: string, expected: string, data?: unknown, options?: RenderOptions];

function check(cases: Case[]): void {
  for (const [template, expected, data = row, options] of cases) {
    it(`${JSON.stringify(template)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(renderTemplate(template, data, options), expected);
    });
  }
}

function checkErrors(cases: [template: string, message: string, data?: unknown][]): void {
  for (const [template, message, data = row] of cases) {
    it(`${JSON.stringify(template)} fails`, () => {
      assert.throws(
        () => renderTemplate(template, data),
        (err: unknown) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === `template parsing error: ${message}`,
      );
    });
  }
}

describe('go-template: fields, maps and variables', () => {
  check([
    ['{{.Name}}', 'web'],
    ['plain text', 'plain text'],
    ['{{.Mount.Source}}:{{.Mount.RW}}', '/src:true'],
    ['{{.Labels.app}}', 'nginx'],
    ['{{.Labels.missing}}', '<no value>'],
    ['{{index .Labels "com.example.team"}}', 'infra'],
    ['{{index .Labels "missing"}}', ''],
    ['{{index .Names 1}}', 'frontend'],
    ['{{index . "k"}}', 'v', new Map([['k', 'v']])],
    ['{{.k}}', 'v', { k: 'v', [MAP_LIKE]: true }],
    ['{{.Unset}}|{{.Nothing}}', '<no value>|<nil>'],
    ['{{.Label "com.x"}}', 'label:com.x'],
    ['{{$x := .Name}}{{$x}}-{{$.Status}}', 'web-up'],
    ['{{$x := 1}}{{range .Names}}{{$x = .}}{{end}}{{$x}}', 'proxy'],
    ['{{range .Names}}{{$.Name}}:{{.}} {{end}}', 'web:web web:frontend web:proxy '],
    ['{{(index .Names 0) | printf "%s!"}}', 'web!'],
    ['{{with $m := .Mount}}{{$m.Source}}{{end}}', '/src'],
  ]);
});

describe('go-template: control flow', () => {
  check([
    ['{{if eq .Status "up"}}x{{else}}y{{end}}', 'x'],
    ['{{if eq .Status "down"}}x{{else}}y{{end}}', 'y'],
    ['{{if .Count}}a{{else if .Running}}b{{else}}c{{end}}', 'b'],
    ['{{if .Unset}}a{{end}}{{if .Nothing}}b{{end}}{{if .Names}}c{{end}}{{if .Mount}}d{{end}}', 'cd'],
    ['{{with .Mount}}{{.Source}}{{end}}', '/src'],
    ['{{with .Unset}}x{{else with .Name}}{{.}}{{end}}', 'web'],
    ['{{range .Names}}[{{.}}]{{end}}', '[web][frontend][proxy]'],
    ['{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}', '0=web 1=frontend 2=proxy '],
    ['{{range .Labels}}{{.}};{{end}}', '<x>;nginx;infra;'],
    ['{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}', 'a&b=<x>,app=nginx,com.example.team=infra,'],
    ['{{range .Ports}}{{.}}{{else}}none{{end}}', '80443'],
    ['{{range .Unset}}x{{else}}none{{end}}', 'none'],
    ['{{range $i, $n := .Names}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 2}}{{break}}{{end}}{{$n}}{{end}}', 'web'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{- /* a comment */ -}}\n  {{.Name}}  {{- "!" }}\n', 'web!\n'],
    ['a  {{- .Name -}}  b', 'awebb'],
    ['{{.Name -}}\n\t{{"x"}}', 'webx'],
  ]);
});

describe('go-template: builtins', () => {
  check([
    ['{{.ID | printf "%.12s"}}', 'sha256:4e3b9'],
    ['{{printf "%-6s|%5d|%05.1f|%q|%v|%t|%x|%X|%%" "ab" 42 3.14159 "hi\\n" .Names true 255 "hi"}}', 'ab    |   42|003.1|"hi\\n"|[web frontend proxy]|true|ff|6869|%'],
    ['{{printf "%+d %o %b %c %U %#x" 5 8 5 65 9731 255}}', '+5 10 101 A U+2603 0xff'],
    ['{{printf "%.2f %e %g %.3g %v" .CPU .Ratio 0.00001 1.125 .CPU}}', '1.50 1.234568e+06 1e-05 1.12 1.5'],
    ['{{printf "%.2f" 3}}', '3.00'],
    ['{{printf "%d" "x"}} {{printf "%s %s" "a"}} {{printf "x" 1 "y"}}', '%!d(string=x) a %!s(MISSING) x%!(EXTRA int=1, string=y)'],
    ['{{printf "%T %T %T" .Names .Labels .CPU}}', '[]string map[string]string float64'],
    ['{{printf "%v|%+v" .Mount .Mount}}', '{/src true}|{Source:/src RW:true}'],
    ['{{print 1 2 "a" "b" 3}}', '1 2ab3'],
    ['{{println "a" 1}}', 'a 1\n'],
    ['{{len .Names}} {{len .Name}} {{len .Labels}} {{len "héllo"}}', '3 3 3 6'],
    ['{{slice .Names 1 2}} {{slice .Name 1}}', '[frontend] eb'],
    ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" "z"}} {{or 0 ""}} {{not .Count}}', '0 2 z  true'],
    ['{{or .Name (index .Names 99)}}', 'web'],
    ['{{eq .Name "a" "web"}} {{ne .Size 1234}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 2.5 1.5}}', 'true false true true true true'],
    ['{{eq .Unset "x"}} {{eq .Nothing nil}}', 'false true'],
    ['{{.Name | printf "%s!" | printf "%s?"}}', 'web!?'],
    ['{{printf "%s-%s" (upper .Name) (lower "X")}}', 'WEB-x'],
    ['{{html "<a&b>"}} {{urlquery "a b&c"}} {{js "it\'s"}}', '&lt;a&amp;b&gt; a+b%26c it\\\'s'],
  ]);
});

describe('go-template: Docker functions', () => {
  check([
    ['{{join .Names ","}}', 'web,frontend,proxy'],
    ['{{join .Ports ", "}}', '80, 443'],
    ['{{join .Labels "|"}}', '<x>|infra|nginx'],
    ['{{join .Unset ","}}', ''],
    ['{{split "a,b,c" ","}} {{index (split "k=v" "=") 1}}', '[a b c] v'],
    ['{{upper .Name}} {{lower "MiXeD"}} {{title "hello wide-world"}}', 'WEB mixed Hello Wide-World'],
    ['[{{pad .Name 2 1}}][{{pad "" 2 1}}]', '[  web ][]'],
    ['{{truncate .ID 6}} {{truncate "ab" 5}}', 'sha256 ab'],
    ['{{json .Labels}}', '{"a&b":"<x>","app":"nginx","com.example.team":"infra"}'],
    ['{{json .Names}} {{json .Mount}} {{json .Unset}} {{json .CPU}} {{json .Created}}', '["web","frontend","proxy"] {"Source":"/src","RW":true} null 1.5 "2024-01-02T15:04:05Z"'],
    ['{{json "\u2028"}}', '"\\u2028"'],
    ['{{json .}}', '{"Name":"<b>","N":1}', { Name: '<b>', N: 1 }],
    ['{{json .}}', '{"A":1,"Name":"\\u003cb\\u003e"}', { Name: '<b>', A: 1 }, { rowContext: true }],
    ['{{json .Name}}', '"<b>"', { Name: '<b>' }, { rowContext: true }],
  ]);
});

describe('go-template: printing values', () => {
  check([
    ['{{.Names}} {{.Ports}} {{.Labels}}', '[web frontend proxy] [80 443] map[a&b:<x> app:nginx com.example.team:infra]'],
    ['{{.Size}} {{.CPU}} {{.Ratio}} {{.Running}} {{1e21}}', '1234 1.5 1.2345675e+06 true 1e+21'],
    ['{{.Created}}', '2024-01-02 15:04:05 +0000 UTC'],
    ['{{"a\\tb"}}|{{`raw\\t`}}|{{\'a\'}}|{{0x1F}}|{{-3}}|{{1.50}}|{{true}}', 'a\tb|raw\\t|97|31|-3|1.5|true'],
    ['{{.}}', '[1 <nil> map[b:2]]', [1, null, asMap({ b: 2 })]],
  ]);
});

describe('go-template: header rendering', () => {
  const header = asMap({ Names: 'NAMES', Name: 'NAME' });
  check([
    ['{{json .Name}}|{{join .Names ","}}|{{upper .Name}}|{{truncate .Name 2}}|{{pad .Name 1 1}}', 'NAME|NAMES|NAME|NAME| NAME ', header, { header: true }],
    ['{{.Name}}{{.Missing.Foo}}', 'NAME<no value>', header, { header: true }],
  ]);
  it('returns the output before an error with partialOnError', () => {
    assert.equal(renderTemplate('a{{.Name}}b{{.Nope}}c', { Name: 'x' }, { partialOnError: true }), 'axb');
  });
});

describe('go-template: parse errors', () => {
  checkErrors([
    ['{{.Name', 'template: :1: unclosed action'],
    ['{{.Name}', `template: :1: bad character U+007D '}'`],
    ['{{InvalidFunction}}', 'template: :1: function "InvalidFunction" not defined'],
    ['{{trim .Name}}', 'template: :1: function "trim" not defined'],
    ['{{if .Name}}x', 'template: :1: unexpected EOF'],
    ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{else}}', 'template: :1: unexpected {{else}}'],
    ['{{$x}}', 'template: :1: undefined variable "$x"'],
    ['{{"abc}}', 'template: :1: unterminated quoted string'],
    ['{{if}}{{end}}', 'template: :1: missing value for if'],
    ['{{}}', 'template: :1: missing value for command'],
    ['{{3 | 4}}', 'template: :1: non executable command in pipeline stage 2'],
    ['{{range $a, $b, $c := .}}{{end}}', 'template: :1: too many declarations in range'],
    ['{{break}}', 'template: :1: {{break}} outside {{range}}'],
    ['line1\n{{.Name)}}', 'template: :2: unexpected ")" in command'],
    ['{{/* open', 'template: :1: unclosed comment'],
    ['{{3.x}}', 'template: :1: bad number syntax: "3.x"'],
  ]);
});

describe('go-template: execution errors', () => {
  checkErrors([
    ['{{.Foo}}', `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type struct`],
    ['{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command'],
    ['x\n {{.Mount.Nope}}', `template: :2:9: executing "" at <.Mount.Nope>: can't evaluate field Nope in type struct`],
    ['{{.Name.Foo}}', `template: :1:7: executing "" at <.Name.Foo>: can't evaluate field Foo in type string`],
    ['{{.Nothing.Foo}}', 'template: :1:10: executing "" at <.Nothing.Foo>: nil pointer evaluating interface {}.Foo'],
    ['{{index .Names 5}}', 'template: :1:2: executing "" at <index .Names 5>: error calling index: index out of range: 5'],
    ['{{upper .Name .Name}}', 'template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 2'],
    ['{{upper .Size}}', 'template: :1:8: executing "" at <.Size>: wrong type for value; expected string; got int'],
    ['{{upper 3}}', 'template: :1:8: executing "" at <3>: expected string; found 3'],
    ['{{.Name 1}}', 'template: :1:2: executing "" at <.Name>: Name has arguments but cannot be invoked as function'],
    ['{{.Labels.app 1}}', 'template: :1:9: executing "" at <.Labels.app>: app is not a method but has arguments'],
    ['{{range .Name}}{{end}}', `template: :1:8: executing "" at <.Name>: range can't iterate over web`],
    ['{{eq 1 "a"}}', 'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison'],
    ['{{len 3}}', 'template: :1:2: executing "" at <len 3>: error calling len: len of type int'],
    ['{{join .Name ","}}', 'template: :1:2: executing "" at <join .Name ",">: error calling join: expected slice, got string'],
    ['{{.Foo}}', `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type *formatter.ContainerContext`, { [GO_TYPE]: '*formatter.ContainerContext' }],
  ]);
});

describe('compileTemplate', () => {
  it('compiles once and renders many values', () => {
    const t = compileTemplate('{{.Name}}:{{len .Names}}');
    assert.equal(t.source, '{{.Name}}:{{len .Names}}');
    assert.deepEqual(
      [{ Name: 'a', Names: [] }, { Name: 'b', Names: ['x'] }].map((d) => t.render(d)),
      ['a:0', 'b:1'],
    );
  });
  it('reports syntax errors at compile time as INVALID_ARGUMENT', () => {
    assert.throws(() => compileTemplate('{{.A'), (err: unknown) => isGantryError(err, 'INVALID_ARGUMENT'));
  });
});
