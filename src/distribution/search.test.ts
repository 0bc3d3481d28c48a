import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../core/errors.js';
import type { Credentials } from './credentials.js';
import {
  applySearchFilters,
  parseSearchFilters,
  parseSearchResults,
  parseSearchTerm,
  searchLimit,
  searchRegistry,
  type SearchRegistries,
  type SearchResult,
} from './search.js';
import { Transport } from './transport.js';

const result = (name: string, starCount: number, isOfficial = false, isAutomated = false): SearchResult => ({
  name,
  description: `${name} image`,
  starCount,
  isOfficial,
  isAutomated,
});

describe('search: terms, limits, filters', () => {
  it('searches Docker Hub unless the first component is a host, dropping library/ there', () => {
    const hub = (query: string) => ({ domain: 'docker.io', endpoint: 'index.docker.io', query });
    assert.deepEqual(parseSearchTerm('busybox'), hub('busybox'));
    assert.deepEqual(parseSearchTerm('library/busybox'), hub('busybox'));
    assert.deepEqual(parseSearchTerm('samalba/hipache'), hub('samalba/hipache'));
    assert.deepEqual(parseSearchTerm('docker.io/library/busybox'), hub('busybox'));
    assert.deepEqual(parseSearchTerm('index.docker.io/nginx'), hub('nginx'));
    assert.deepEqual(parseSearchTerm('localhost:5000/busybox'), { domain: 'localhost:5000', endpoint: 'localhost:5000', query: 'busybox' });
    assert.deepEqual(parseSearchTerm('localhost/a/b'), { domain: 'localhost', endpoint: 'localhost', query: 'a/b' });
    assert.deepEqual(parseSearchTerm('quay.io/library/x'), { domain: 'quay.io', endpoint: 'quay.io', query: 'library/x' });
    assert.throws(() => parseSearchTerm('https://quay.io/x'), /^GantryError: invalid repository name: repository name \(https:\/\/quay.io\/x\) should not have a scheme$/);
  });

  it('takes 1..100 results, 0 or nothing meaning 25, with Docker\'s error otherwise', () => {
    assert.equal(searchLimit(undefined), 25);
    assert.equal(searchLimit(0), 25);
    assert.equal(searchLimit(1), 1);
    assert.equal(searchLimit(100), 100);
    for (const bad of [-1, 101, 1.5]) {
      assert.throws(
        () => searchLimit(bad),
        (err: unknown) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === `limit ${bad} is outside the range of [1, 100]`,
      );
    }
  });

  it('validates filters with Docker\'s wording', () => {
    assert.deepEqual(parseSearchFilters([]), {});
    assert.deepEqual(
      parseSearchFilters([
        { key: 'stars', value: '3' },
        { key: 'stars', value: '10' },
        { key: 'is-official', value: 'true' },
        { key: 'is-automated', value: '0' },
      ]),
      { minStars: 10, isOfficial: true, isAutomated: false },
    );
    assert.deepEqual(parseSearchFilters([{ key: 'is-official', value: '1' }, { key: 'is-official', value: 'true' }]), { isOfficial: true });
    const invalid = (args: { key: string; value: string }[], message: string) =>
      assert.throws(() => parseSearchFilters(args), (err: unknown) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === message);
    invalid([{ key: 'name', value: 'x' }], "invalid filter 'name'");
    invalid([{ key: 'is-official', value: 'yes' }], "invalid filter 'is-official=yes'");
    invalid([{ key: 'is-official', value: 'TRUE' }], "invalid filter 'is-official=TRUE'");
    invalid([{ key: 'is-automated', value: 'true' }, { key: 'is-automated', value: 'false' }], "invalid filter 'is-automated=true,false'");
    invalid([{ key: 'stars', value: 'many' }], 'invalid filter \'stars=many\': strconv.Atoi: parsing "many": invalid syntax');
  });

  it('keeps the results that pass every filter, in order', () => {
    const all = [result('a', 5, true), result('b', 50, false, true), result('c', 500, true), result('d', 0)];
    const names = (f: Parameters<typeof applySearchFilters>[1]) => applySearchFilters(all, f).map((r) => r.name);
    assert.deepEqual(names({}), ['a', 'b', 'c', 'd']);
    assert.deepEqual(names({ minStars: 50 }), ['b', 'c']);
    assert.deepEqual(names({ isOfficial: true }), ['a', 'c']);
    assert.deepEqual(names({ isOfficial: false }), ['b', 'd']);
    assert.deepEqual(names({ isAutomated: true }), ['b']);
    assert.deepEqual(names({ minStars: 10, isOfficial: true }), ['c']);
  });

  it('decodes a V1 search answer, missing fields as zero values', () => {
    const body = JSON.stringify({
      num_results: 2,
      query: 'x',
      results: [{ name: 'x', description: 'd', star_count: 7, is_official: true, is_automated: false }, { name: 'y' }],
    });
    assert.deepEqual(parseSearchResults(body, 'h'), [
      { name: 'x', description: 'd', starCount: 7, isOfficial: true, isAutomated: false },
      { name: 'y', description: '', starCount: 0, isOfficial: false, isAutomated: false },
    ]);
    assert.deepEqual(parseSearchResults('{"num_results":0,"results":null}', 'h'), []);
    assert.throws(() => parseSearchResults('<html>', 'h:1'), /^GantryError: error decoding registry search results from h:1: /);
    assert.throws(() => parseSearchResults('{"results":{}}', 'h:1'), /not a search answer/);
  });
});

describe('search: the V1 search API over HTTP', () => {
  let server: Server;
  let host: string;
  const requests: IncomingMessage[] = [];
  let status = 200;
  let transport: Transport;
  const registries = (credentials?: Credentials): SearchRegistries => ({
    transport,
    isInsecure: () => true,
    credentials: { get: async () => credentials },
  });

  before(async () => {
    transport = new Transport({ backoffMs: 1 });
    server = createServer((req, res) => {
      requests.push(req);
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/v1/search' || status !== 200) {
        res.writeHead(url.pathname === '/v1/search' ? status : 404).end();
        return;
      }
      const n = Number(url.searchParams.get('n'));
      const all = [result('busybox', 3000, true), result('someone/busybox', 12), result('other/busybox', 0, false, true)];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ num_results: all.length, query: url.searchParams.get('q'), results: all.slice(0, n).map(wire) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    transport.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('asks an insecure host over HTTP when it does not speak TLS, with q, n and stored credentials', async () => {
    requests.length = 0;
    const found = await searchRegistry(registries({ username: 'u', password: 'p' }), `${host}/busy box`, { limit: 2 });
    assert.deepEqual(
      found.map((r) => r.name),
      ['busybox', 'someone/busybox'],
    );
    const last = requests.at(-1) as IncomingMessage;
    const url = new URL(last.url ?? '', 'http://x');
    assert.equal(url.pathname, '/v1/search');
    assert.equal(url.searchParams.get('q'), 'busy box');
    assert.equal(url.searchParams.get('n'), '2');
    assert.equal(last.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('filters what the registry returned (after its limit), and sends no Authorization without credentials', async () => {
    requests.length = 0;
    const found = await searchRegistry(registries(), `${host}/busybox`, { filters: [{ key: 'stars', value: '10' }] });
    assert.deepEqual(
      found.map((r) => r.name),
      ['busybox', 'someone/busybox'],
    );
    assert.equal(new URL(requests.at(-1)?.url ?? '', 'http://x').searchParams.get('n'), '25');
    assert.equal(requests.at(-1)?.headers.authorization, undefined);
  });

  it('rejects bad filters and limits before sending anything', async () => {
    requests.length = 0;
    await assert.rejects(searchRegistry(registries(), `${host}/x`, { limit: 101 }), /limit 101 is outside the range of \[1, 100\]/);
    await assert.rejects(searchRegistry(registries(), `${host}/x`, { filters: [{ key: 'nope', value: '1' }] }), /invalid filter 'nope'/);
    assert.equal(requests.length, 0);
  });

  it('names the host when it has no search API, and maps other statuses', async () => {
    status = 404;
    try {
      await assert.rejects(
        searchRegistry(registries(), `${host}/x`),
        (err: unknown) => isGantryError(err, 'NOT_FOUND') && err.message === `${host} does not support search: Unexpected status code 404`,
      );
      status = 401;
      await assert.rejects(
        searchRegistry(registries(), `${host}/x`),
        (err: unknown) => isGantryError(err, 'UNAUTHORIZED') && err.message === `search on ${host} refused: Unexpected status code 401`,
      );
    } finally {
      status = 200;
    }
  });

  it('reports a closed port the way the rest of the client does', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      searchRegistry(registries(), `127.0.0.1:${port}/x`),
      (err: unknown) =>
        isGantryError(err, 'UNAVAILABLE') &&
        err.message === `Get "https://127.0.0.1:${port}/v1/search?q=x&n=25": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });
});

function wire(r: SearchResult) {
  return { name: r.name, description: r.description, star_count: r.starCount, is_official: r.isOfficial, is_automated: r.isAutomated };
}
