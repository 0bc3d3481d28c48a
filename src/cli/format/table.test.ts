// Expected tables are the ones docker/cli's formatter tests (image_test.go, container_test.go,
// formatter_test.go) and Go's tabwriter tests expect.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGantryError } from '../../core/errors.js';
import { formatRows, renderEach, resolveFormat } from './table.js';
import { stringWidth, tabwrite, type TabwriterOptions } from './tabwriter.js';

const IMAGE_OPTS = {
  defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}',
  headers: { Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' },
};

const DIGEST = 'sha256:cbbf2f9a99b47fc460d422812b6a5adff7dfee951d8fa2e4a98caa0382cfbdbf';
const images = [
  { Repository: 'image', Tag: 'tag1', Digest: DIGEST, ID: 'imageID1', CreatedSince: '24 hours ago', Size: '0B' },
  { Repository: 'image', Tag: 'tag2', Digest: '<none>', ID: 'imageID2', CreatedSince: '', Size: '0B' },
  { Repository: '<none>', Tag: '<none>', Digest: '<none>', ID: 'imageID3', CreatedSince: '24 hours ago', Size: '0B' },
];

describe('resolveFormat (docker Format.templateString)', () => {
  const cases: [string | undefined, boolean, string][] = [
    [undefined, true, '{{.ID}}'],
    ['', true, '{{.ID}}'],
    ['table', true, '{{.ID}}'],
    ['json', false, '{{json .}}'],
    ['table {{.Field}}\\t{{.Field2}}', true, '{{.Field}}\t{{.Field2}}'],
    ['other', false, 'other'],
    ['   other   ', false, 'other'],
    ['   other\n   ', false, 'other\n'],
    ['{{.A}}\\n{{.B}}', false, '{{.A}}\n{{.B}}'],
  ];
  for (const [format, table, template] of cases) {
    it(`${JSON.stringify(format)}`, () => assert.deepEqual(resolveFormat(format, 'table {{.ID}}'), { table, template }));
  }
});

describe('formatRows', () => {
  it('prints the default table like docker images', () => {
    assert.equal(
      formatRows(undefined, images, IMAGE_OPTS),
      'REPOSITORY   TAG       IMAGE ID   CREATED        SIZE\n' +
        'image        tag1      imageID1   24 hours ago   0B\n' +
        'image        tag2      imageID2   N/A            0B\n' +
        '<none>       <none>    imageID3   24 hours ago   0B\n',
    );
  });

  it('aligns a custom table with a long column', () => {
    assert.equal(
      formatRows('table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}', images, IMAGE_OPTS),
      `REPOSITORY   TAG       DIGEST\nimage        tag1      ${DIGEST}\nimage        tag2      <none>\n<none>       <none>    <none>\n`,
    );
  });

  it('prints a single-column table without padding', () => {
    assert.equal(formatRows('table {{.Repository}}', images, IMAGE_OPTS), 'REPOSITORY\nimage\nimage\n<none>\n');
  });

  it('prints only the header for no rows', () => {
    assert.equal(formatRows('table {{.Repository}}\t{{.Size}}', [], IMAGE_OPTS), 'REPOSITORY   SIZE\n');
    assert.equal(formatRows('table {{.ID}}\t{{.Size}}', [], { defaultTable: '', headers: { ID: 'IMAGE', Size: 'SIZE' } }), 'IMAGE     SIZE\n');
    assert.equal(formatRows('{{.ID}}', [], IMAGE_OPTS), '');
  });

  it('renders a raw template once per row', () => {
    assert.equal(formatRows('{{.ID}}: {{.Repository}}', images, IMAGE_OPTS), 'imageID1: image\nimageID2: image\nimageID3: <none>\n');
  });

  it('prints one JSON object per row for --format json, keys sorted and <> escaped like docker', () => {
    const out = formatRows('json', images.slice(2), IMAGE_OPTS);
    assert.equal(
      out,
      '{"CreatedSince":"24 hours ago","Digest":"\\u003cnone\\u003e","ID":"imageID3","Repository":"\\u003cnone\\u003e","Size":"0B","Tag":"\\u003cnone\\u003e"}\n',
    );
    assert.equal(formatRows('{{json .}}', images.slice(2), IMAGE_OPTS), out);
    assert.equal(formatRows('{{json .Tag}}', images.slice(2), IMAGE_OPTS), '"<none>"\n');
  });

  it('keeps header text for header-neutral functions and labels', () => {
    const rows = [{ Names: ['web', 'proxy'], Status: 'Up', Label: (name: string) => (name === 'com.example.tier' ? 'front' : '') }];
    const opts = { defaultTable: '', headers: { Names: 'NAMES', Status: 'STATUS', Labels: 'LABELS' } };
    assert.equal(
      formatRows('table {{join .Names ","}}\t{{lower .Status}}\t{{.Label "com.example.tier"}}', rows, opts),
      'NAMES       STATUS    tier\nweb,proxy   up        front\n',
    );
  });

  it('throws like docker for a bad template or field', () => {
    assert.throws(
      () => formatRows('{{InvalidFunction}}', images, IMAGE_OPTS),
      (e: unknown) => isGantryError(e, 'INVALID_ARGUMENT') && e.message === 'template parsing error: template: :1: function "InvalidFunction" not defined',
    );
    assert.throws(
      () => formatRows('table {{.Nope}}', images, IMAGE_OPTS),
      { message: `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type struct` },
    );
  });

  it('renderEach renders each row without a newline', () => {
    assert.deepEqual(renderEach('{{.ID}}', images), ['imageID1', 'imageID2', 'imageID3']);
  });
});

describe('tabwrite (Go tabwriter tests)', () => {
  const o = (minwidth: number, tabwidth: number, padding: number, padchar: string): TabwriterOptions => ({ minwidth, tabwidth, padding, padchar });
  const cases: [string, TabwriterOptions, string, string][] = [
    ['1a', o(8, 0, 1, '.'), '', ''],
    ['2', o(8, 0, 1, '.'), '\n\n\n', '\n\n\n'],
    ['3', o(8, 0, 1, '.'), 'a\nb\nc', 'a\nb\nc'],
    ['4a', o(8, 0, 1, '.'), '\t', ''],
    ['5', o(8, 0, 1, '.'), '*\t*', '*.......*'],
    ['5b', o(8, 0, 1, '.'), '*\t*\n', '*.......*\n'],
    ['5c', o(8, 0, 1, '.'), '*\t*\t', '*.......*'],
    ['6', o(8, 0, 1, '.'), '\t\n', '........\n'],
    ['7b', o(8, 0, 1, ' '), 'b) foo\tbar', 'b) foo  bar'],
    ['7e', o(8, 0, 1, '.'), 'e) foo\tbar\t\n', 'e) foo..bar.....\n'],
    ['9a', o(1, 0, 0, '.'), '1\t2\t3\t4\n11\t222\t3333\t44444\n', '1.2..3...4\n11222333344444\n'],
    ['9c', o(1, 0, 0, '.'), '1\t2\t3\t4\f11\t222\t3333\t44444\n', '1234\n11222333344444\n'],
    ['10b', o(5, 0, 0, '.'), '1\t2\t3\t4\t\n', '1....2....3....4....\n'],
    ['11', o(8, 0, 1, '.'), '本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n', '本......b.......c\naa......本本本..cccc....ddddd\naaa.....bbbb\n'],
    ['12b', o(2, 0, 0, ' '), 'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n', 'a  b  c\naa bbbcccc\naaabbbb\n'],
    [
      '13b',
      o(4, 0, 3, '.'),
      '4444\t333\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n',
      '4444........333...22...1...333\n999999999...22\n7...........22\n....................88888888\n\n666666...666666...666666......4444\n1........1........999999999...0000000000\n',
    ],
  ];
  for (const [name, opts, src, expected] of cases) it(name, () => assert.equal(tabwrite(src, opts), expected));

  it('measures wide and combining characters like go-runewidth', () => {
    assert.equal(stringWidth('abc'), 3);
    assert.equal(stringWidth('日本語'), 6);
    assert.equal(stringWidth('e\u0301'), 1);
  });
});
