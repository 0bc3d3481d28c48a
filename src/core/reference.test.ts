// Cases come from distribution/reference (reference_test.go, normalize_test.go) and Docker's
// documented behaviour; the expected messages are the ones `docker` prints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Digest } from './digest.js';
import {
  familiarName,
  familiarString,
  formatReference,
  isFullDigestId,
  normalizeReference,
  parseReference,
  parseRepository,
  repositoryName,
  type Reference,
} from './reference.js';

const HEX = 'f'.repeat(64);
const DIGEST: Digest = `sha256:${HEX}`;
const ID = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

interface ValidCase {
  input: string;
  /** Expected parse result (fields absent when not set). */
  ref: Reference;
  /** Expected formatReference output. */
  full: string;
  /** Expected familiarString output. */
  familiar: string;
}

const valid: ValidCase[] = [
  { input: 'busybox', ref: { domain: 'docker.io', path: 'library/busybox' }, full: 'docker.io/library/busybox', familiar: 'busybox' },
  { input: 'busybox:latest', ref: { domain: 'docker.io', path: 'library/busybox', tag: 'latest' }, full: 'docker.io/library/busybox:latest', familiar: 'busybox:latest' },
  { input: 'library/busybox', ref: { domain: 'docker.io', path: 'library/busybox' }, full: 'docker.io/library/busybox', familiar: 'busybox' },
  { input: 'docker.io/busybox', ref: { domain: 'docker.io', path: 'library/busybox' }, full: 'docker.io/library/busybox', familiar: 'busybox' },
  { input: 'docker.io/library/busybox', ref: { domain: 'docker.io', path: 'library/busybox' }, full: 'docker.io/library/busybox', familiar: 'busybox' },
  { input: 'index.docker.io/library/busybox:1.36', ref: { domain: 'docker.io', path: 'library/busybox', tag: '1.36' }, full: 'docker.io/library/busybox:1.36', familiar: 'busybox:1.36' },
  { input: 'index.docker.io/busybox', ref: { domain: 'docker.io', path: 'library/busybox' }, full: 'docker.io/library/busybox', familiar: 'busybox' },
  { input: 'index.docker.io/docker/docker', ref: { domain: 'docker.io', path: 'docker/docker' }, full: 'docker.io/docker/docker', familiar: 'docker/docker' },
  { input: 'user/app', ref: { domain: 'docker.io', path: 'user/app' }, full: 'docker.io/user/app', familiar: 'user/app' },
  { input: 'other/library', ref: { domain: 'docker.io', path: 'other/library' }, full: 'docker.io/other/library', familiar: 'other/library' },
  { input: 'library/foo/bar', ref: { domain: 'docker.io', path: 'library/foo/bar' }, full: 'docker.io/library/foo/bar', familiar: 'library/foo/bar' },
  { input: 'store/foo/bar', ref: { domain: 'docker.io', path: 'store/foo/bar' }, full: 'docker.io/store/foo/bar', familiar: 'store/foo/bar' },
  { input: 'ubuntu-12.04-base', ref: { domain: 'docker.io', path: 'library/ubuntu-12.04-base' }, full: 'docker.io/library/ubuntu-12.04-base', familiar: 'ubuntu-12.04-base' },
  { input: 'localhost/foo', ref: { domain: 'localhost', path: 'foo' }, full: 'localhost/foo', familiar: 'localhost/foo' },
  { input: 'localhost/library/debian', ref: { domain: 'localhost', path: 'library/debian' }, full: 'localhost/library/debian', familiar: 'localhost/library/debian' },
  { input: 'localhost:5000/a/b:tag', ref: { domain: 'localhost:5000', path: 'a/b', tag: 'tag' }, full: 'localhost:5000/a/b:tag', familiar: 'localhost:5000/a/b:tag' },
  { input: '127.0.0.1:5000/x', ref: { domain: '127.0.0.1:5000', path: 'x' }, full: '127.0.0.1:5000/x', familiar: '127.0.0.1:5000/x' },
  { input: '192.168.1.1:5000/repo:5050', ref: { domain: '192.168.1.1:5000', path: 'repo', tag: '5050' }, full: '192.168.1.1:5000/repo:5050', familiar: '192.168.1.1:5000/repo:5050' },
  { input: '[::1]:5000/x', ref: { domain: '[::1]:5000', path: 'x' }, full: '[::1]:5000/x', familiar: '[::1]:5000/x' },
  { input: '[2001:db8::1]/repo', ref: { domain: '[2001:db8::1]', path: 'repo' }, full: '[2001:db8::1]/repo', familiar: '[2001:db8::1]/repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', ref: { domain: '[2001:db8:1:2:3:4:5:6]', path: 'repo', tag: 'tag' }, full: '[2001:db8:1:2:3:4:5:6]/repo:tag', familiar: '[2001:db8:1:2:3:4:5:6]/repo:tag' },
  { input: `[2001:db8::1]:5000/repo:tag@${DIGEST}`, ref: { domain: '[2001:db8::1]:5000', path: 'repo', tag: 'tag', digest: DIGEST }, full: `[2001:db8::1]:5000/repo:tag@${DIGEST}`, familiar: `[2001:db8::1]:5000/repo:tag@${DIGEST}` },
  { input: 'my.registry.com/ns/repo', ref: { domain: 'my.registry.com', path: 'ns/repo' }, full: 'my.registry.com/ns/repo', familiar: 'my.registry.com/ns/repo' },
  { input: 'example.com:8000/private/moonbase', ref: { domain: 'example.com:8000', path: 'private/moonbase' }, full: 'example.com:8000/private/moonbase', familiar: 'example.com:8000/private/moonbase' },
  { input: 'test:5000/repo', ref: { domain: 'test:5000', path: 'repo' }, full: 'test:5000/repo', familiar: 'test:5000/repo' },
  { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', ref: { domain: 'sub-dom1.foo.com', path: 'bar/baz/quux', tag: 'some-long-tag' }, full: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', familiar: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag' },
  { input: 'b.gcr.io/test.example.com/my-app:test.example.com', ref: { domain: 'b.gcr.io', path: 'test.example.com/my-app', tag: 'test.example.com' }, full: 'b.gcr.io/test.example.com/my-app:test.example.com', familiar: 'b.gcr.io/test.example.com/my-app:test.example.com' },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', ref: { domain: 'xn--n3h.com', path: 'myimage', tag: 'xn--n3h.com' }, full: 'xn--n3h.com/myimage:xn--n3h.com', familiar: 'xn--n3h.com/myimage:xn--n3h.com' },
  // Uppercase first components are hosts (namespaces cannot be uppercase).
  { input: 'Foo/bar', ref: { domain: 'Foo', path: 'bar' }, full: 'Foo/bar', familiar: 'Foo/bar' },
  { input: 'LOCALDOMAIN/fooo/bar', ref: { domain: 'LOCALDOMAIN', path: 'fooo/bar' }, full: 'LOCALDOMAIN/fooo/bar', familiar: 'LOCALDOMAIN/fooo/bar' },
  // Without a "/", a host-looking name is still an image on Docker Hub and ":5000" a tag.
  { input: 'localhost', ref: { domain: 'docker.io', path: 'library/localhost' }, full: 'docker.io/library/localhost', familiar: 'localhost' },
  { input: 'test.com:5000', ref: { domain: 'docker.io', path: 'library/test.com', tag: '5000' }, full: 'docker.io/library/test.com:5000', familiar: 'test.com:5000' },
  { input: '192.168.0.1', ref: { domain: 'docker.io', path: 'library/192.168.0.1' }, full: 'docker.io/library/192.168.0.1', familiar: '192.168.0.1' },
  // A first component that is not a valid host stays in the path with an empty domain (as in Go).
  { input: 'foo_bar.com/x', ref: { domain: '', path: 'foo_bar.com/x' }, full: 'foo_bar.com/x', familiar: 'foo_bar.com/x' },
  // Separators.
  { input: 'foo_bar', ref: { domain: 'docker.io', path: 'library/foo_bar' }, full: 'docker.io/library/foo_bar', familiar: 'foo_bar' },
  { input: 'foo__bar', ref: { domain: 'docker.io', path: 'library/foo__bar' }, full: 'docker.io/library/foo__bar', familiar: 'foo__bar' },
  { input: 'foo---bar', ref: { domain: 'docker.io', path: 'library/foo---bar' }, full: 'docker.io/library/foo---bar', familiar: 'foo---bar' },
  { input: 'docker---rules/docker', ref: { domain: 'docker.io', path: 'docker---rules/docker' }, full: 'docker.io/docker---rules/docker', familiar: 'docker---rules/docker' },
  { input: 'd/docker', ref: { domain: 'docker.io', path: 'd/docker' }, full: 'docker.io/d/docker', familiar: 'd/docker' },
  // Tags.
  { input: 'lowercase:Uppercase', ref: { domain: 'docker.io', path: 'library/lowercase', tag: 'Uppercase' }, full: 'docker.io/library/lowercase:Uppercase', familiar: 'lowercase:Uppercase' },
  { input: `busybox:_${'a'.repeat(127)}`, ref: { domain: 'docker.io', path: 'library/busybox', tag: `_${'a'.repeat(127)}` }, full: `docker.io/library/busybox:_${'a'.repeat(127)}`, familiar: `busybox:_${'a'.repeat(127)}` },
  // Digests, with and without a tag.
  { input: `busybox@${DIGEST}`, ref: { domain: 'docker.io', path: 'library/busybox', digest: DIGEST }, full: `docker.io/library/busybox@${DIGEST}`, familiar: `busybox@${DIGEST}` },
  { input: `busybox:latest@${DIGEST}`, ref: { domain: 'docker.io', path: 'library/busybox', tag: 'latest', digest: DIGEST }, full: `docker.io/library/busybox:latest@${DIGEST}`, familiar: `busybox:latest@${DIGEST}` },
  { input: `test:5000/repo@${DIGEST}`, ref: { domain: 'test:5000', path: 'repo', digest: DIGEST }, full: `test:5000/repo@${DIGEST}`, familiar: `test:5000/repo@${DIGEST}` },
  { input: `x@sha512:${'a'.repeat(128)}`, ref: { domain: 'docker.io', path: 'library/x', digest: `sha512:${'a'.repeat(128)}` }, full: `docker.io/library/x@sha512:${'a'.repeat(128)}`, familiar: `x@sha512:${'a'.repeat(128)}` },
  // A 64-hex name is fine once a registry makes it unambiguous.
  { input: `docker.io/${ID}`, ref: { domain: 'docker.io', path: `library/${ID}` }, full: `docker.io/library/${ID}`, familiar: ID },
  // Length limit is on the path only (255), including an added "library/".
  { input: `example.com/${'a'.repeat(255)}:tag`, ref: { domain: 'example.com', path: 'a'.repeat(255), tag: 'tag' }, full: `example.com/${'a'.repeat(255)}:tag`, familiar: `example.com/${'a'.repeat(255)}:tag` },
  { input: 'a'.repeat(247), ref: { domain: 'docker.io', path: `library/${'a'.repeat(247)}` }, full: `docker.io/library/${'a'.repeat(247)}`, familiar: 'a'.repeat(247) },
];

const FORMAT = 'invalid reference format';
const TOO_LONG = 'repository name must not be more than 255 characters';

const invalid: Array<[input: string, message: string]> = [
  ['', FORMAT],
  [':tag', FORMAT],
  [':justtag', FORMAT],
  [`@${DIGEST}`, FORMAT],
  ['busybox:', FORMAT],
  ['a//b', FORMAT],
  ['docker///docker', FORMAT],
  ['a..b', FORMAT],
  ['dock..er/docker', FORMAT],
  ['dock_.er/docker', FORMAT],
  ['dock-.er/docker', FORMAT],
  ['foo._bar', FORMAT],
  ['foo___bar', FORMAT],
  ['-abc', FORMAT],
  ['-docker/docker', FORMAT],
  ['docker-/docker', FORMAT],
  ['_docker/_docker', FORMAT],
  ['____/____', FORMAT],
  ['-docker.io/docker/docker', FORMAT],
  ['docker/', FORMAT],
  ['aa/asdf$$^/aa', FORMAT],
  ['https://github.com/docker/docker', FORMAT],
  ['busybox:-tag', FORMAT],
  ['busybox:.tag', FORMAT],
  ['busybox:ta$g', FORMAT],
  ['busybox:tag/x', FORMAT],
  [`busybox:${'a'.repeat(129)}`, FORMAT],
  ['busybox\n', FORMAT],
  ['[fc00::1]:5000', FORMAT],
  ['fc00::1:5000/debian', FORMAT],
  ['[fe80::1%eth0]:5000/debian', FORMAT],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', FORMAT],
  ['deislabs:8080:8080/porter-hello:latest', FORMAT],
  ['busybox@latest', FORMAT],
  [`busybox@${HEX}`, FORMAT],
  [`busybox@sha256:${'a'.repeat(31)}`, FORMAT],
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['Uppercase:tag', 'invalid reference format: repository name (library/Uppercase) must be lowercase'],
  ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
  ['docker.io/docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
  ['test:5000/Uppercase/lowercase:tag', 'invalid reference format: repository name (Uppercase/lowercase) must be lowercase'],
  [ID, `invalid repository name (${ID}), cannot specify 64-byte hexadecimal strings`],
  ['a'.repeat(256), TOO_LONG],
  ['a'.repeat(248), TOO_LONG],
  [`domain/${'a'.repeat(256)}:tag`, TOO_LONG],
  [`example.com/${'a'.repeat(256)}`, TOO_LONG],
  [`${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}x/docker`, TOO_LONG],
  [`busybox@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
  [`busybox@sha256:${'a'.repeat(65)}`, 'invalid checksum digest length'],
  [`busybox@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
  [`busybox:tag@Sha256:${HEX}`, 'invalid checksum digest format'],
  // Docker checks case on everything before the first ":", so here it blames the "name".
  [`busybox@Sha256:${HEX}`, 'invalid reference format: repository name (library/busybox@Sha256) must be lowercase'],
  [`validname@invaliddigest:${HEX}`, 'unsupported digest algorithm'],
  [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
];

function expectError(fn: () => unknown, message: string): void {
  assert.throws(fn, { name: 'GantryError', code: 'INVALID_ARGUMENT', message });
}

describe('parseReference', () => {
  for (const c of valid) {
    it(`parses ${JSON.stringify(c.input.length > 80 ? `${c.input.slice(0, 77)}...` : c.input)}`, () => {
      const ref = parseReference(c.input);
      assert.deepEqual(ref, c.ref);
      assert.equal(formatReference(ref), c.full);
      assert.equal(familiarString(ref), c.familiar);
      const suffix = (c.ref.tag === undefined ? '' : `:${c.ref.tag}`) + (c.ref.digest === undefined ? '' : `@${c.ref.digest}`);
      assert.equal(repositoryName(ref) + suffix, c.full);
      // The full form is canonical: parsing it again gives the same reference.
      assert.deepEqual(parseReference(c.full), c.ref);
    });
  }
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input.length > 80 ? `${input.slice(0, 77)}...` : input)}`, () => {
      expectError(() => parseReference(input), message);
      expectError(() => normalizeReference(input), message);
    });
  }
});

describe('normalizeReference', () => {
  const cases: Array<[input: string, full: string, familiar: string]> = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['localhost:5000/a/b', 'localhost:5000/a/b:latest', 'localhost:5000/a/b:latest'],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`busybox:v1@${DIGEST}`, `docker.io/library/busybox:v1@${DIGEST}`, `busybox:v1@${DIGEST}`],
  ];
  for (const [input, full, familiar] of cases) {
    it(`normalises ${input.slice(0, 40)}`, () => {
      const ref = normalizeReference(input);
      assert.equal(formatReference(ref), full);
      assert.equal(familiarString(ref), familiar);
    });
  }
  it('does not add latest next to a digest', () => {
    assert.equal(normalizeReference(`busybox@${DIGEST}`).tag, undefined);
  });
});

describe('familiarName and repositoryName', () => {
  const cases: Array<[input: string, familiar: string, repository: string]> = [
    ['busybox:latest', 'busybox', 'docker.io/library/busybox'],
    ['user/app:1', 'user/app', 'docker.io/user/app'],
    ['docker.io/library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar'],
    [`localhost:5000/a/b:tag@${DIGEST}`, 'localhost:5000/a/b', 'localhost:5000/a/b'],
    ['example.com/library/x', 'example.com/library/x', 'example.com/library/x'],
  ];
  for (const [input, familiar, repository] of cases) {
    it(input.slice(0, 40), () => {
      const ref = parseReference(input);
      assert.equal(familiarName(ref), familiar);
      assert.equal(repositoryName(ref), repository);
    });
  }
});

describe('parseRepository', () => {
  it('parses a tag target without adding a tag', () => {
    assert.deepEqual(parseRepository('myrepo'), { domain: 'docker.io', path: 'library/myrepo' });
    assert.deepEqual(parseRepository('localhost:5000/a/b:v1'), { domain: 'localhost:5000', path: 'a/b', tag: 'v1' });
  });
  const cases: Array<[input: string, message: string]> = [
    ['Busybox', 'error parsing reference: "Busybox" is not a valid repository/tag: invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['', 'error parsing reference: "" is not a valid repository/tag: invalid reference format'],
    ['a b', 'error parsing reference: "a b" is not a valid repository/tag: invalid reference format'],
    [ID, `error parsing reference: "${ID}" is not a valid repository/tag: invalid repository name (${ID}), cannot specify 64-byte hexadecimal strings`],
    [`busybox@${DIGEST}`, 'refusing to create a tag with a digest reference'],
    [`busybox:latest@${DIGEST}`, 'refusing to create a tag with a digest reference'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => expectError(() => parseRepository(input), message));
  }
});

describe('isFullDigestId', () => {
  const cases: Array<[input: string, expected: boolean]> = [
    [ID, true],
    [`sha256:${ID}`, true],
    [ID.toUpperCase(), false],
    [ID.slice(0, 63), false],
    [`${ID}0`, false],
    [`sha512:${ID}`, false],
    [`sha256:${ID.slice(0, 12)}`, false],
    ['busybox', false],
    ['', false],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input.slice(0, 20))} → ${expected}`, () => assert.equal(isFullDigestId(input), expected));
  }
});
