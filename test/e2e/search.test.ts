/**
 * `gantry search` end to end against a registry V1 search API served by the test on a free
 * loopback port (the API Docker Hub's index serves, and gantry's hub will): the exact table,
 * `--limit` sent as `n=`, the filters, `--format` (templates, table, json), `--no-trunc`,
 * stored credentials, and each failure as one error line with Docker's exit code.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type RunOptions, Sandbox } from '../support/harness.js';

/** What the search server knows, in the V1 wire format. */
const REPOSITORIES = [
  { name: 'busybox', description: 'Busybox base image.', star_count: 3112, is_official: true, is_automated: false },
  {
    name: 'someone/busybox',
    description: 'A description that is longer than forty-five columns, cut by default',
    star_count: 12,
    is_official: false,
    is_automated: true,
  },
  { name: 'other/busybox-tools', description: 'line one\nline two', star_count: 0, is_official: false, is_automated: false },
];

interface Seen {
  url: URL;
  headers: IncomingHttpHeaders;
}

/** Starts an HTTP server on 127.0.0.1:0; `handler` answers each request. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server | undefined) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));

describe('gantry search', () => {
  let sb: Sandbox;
  let configDir: string;
  let index: Server; // implements GET /v1/search
  let host: string;
  let plain: Server; // a registry without search: 404 for everything
  let plainHost: string;
  const seen: Seen[] = [];
  const env = (): RunOptions => ({ env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: '/nonexistent' } });
  const run = (args: string[]) => sb.run(['search', ...args], env());
  const ok = (args: string[]) => sb.ok(['search', ...args], env());
  /** The search requests that reached the index (gantry's TLS attempt first is not one). */
  const searches = () => seen.filter((s) => s.url.pathname === '/v1/search');

  before(async () => {
    [sb, configDir] = await Promise.all([Sandbox.create('gantry-e2e-search-'), mkdtemp('/var/tmp/gantry-docker-config-')]);
    ({ server: index, host } = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://index');
      seen.push({ url, headers: req.headers });
      if (req.method !== 'GET' || url.pathname !== '/v1/search') {
        res.writeHead(404).end();
        return;
      }
      const q = url.searchParams.get('q') ?? '';
      const n = Number(url.searchParams.get('n') ?? '25');
      const found = REPOSITORIES.filter((r) => r.name.includes(q));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ num_results: found.length, query: q, results: found.slice(0, n) }));
    }));
    ({ server: plain, host: plainHost } = await listen((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NOT_FOUND","message":"not found"}]}');
    }));
  });
  after(async () => {
    await Promise.all([close(index), close(plain), sb?.destroy(), configDir && rm(configDir, { recursive: true, force: true })]);
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('prints Docker\'s table: NAME DESCRIPTION STARS OFFICIAL, descriptions on one line and cut at 45 columns', async () => {
    const r = await ok([`${host}/busybox`]);
    assert.equal(
      r.stdout,
      [
        'NAME                  DESCRIPTION                                     STARS     OFFICIAL',
        'busybox               Busybox base image.                             3112      [OK]',
        'someone/busybox       A description that is longer than forty-five…   12        ',
        'other/busybox-tools   line one line two                               0         ',
        '',
      ].join('\n'),
    );
    assert.equal(r.stderr, '');
    assert.equal(searches().length, 1);
    const [s] = searches();
    assert.equal(s?.url.search, '?q=busybox&n=25');
    assert.equal(s?.headers.authorization, undefined);
  });

  it('--no-trunc prints whole descriptions', async () => {
    const r = await ok(['--no-trunc', `${host}/someone`]);
    assert.equal(
      r.stdout,
      [
        'NAME              DESCRIPTION                                                            STARS     OFFICIAL',
        'someone/busybox   A description that is longer than forty-five columns, cut by default   12        ',
        '',
      ].join('\n'),
    );
  });

  it('--limit is sent as n= (0 meaning 25) and must be 1..100', async () => {
    const two = await ok(['--limit', '2', '--format', '{{.Name}}', `${host}/busybox`]);
    assert.equal(two.stdout, 'busybox\nsomeone/busybox\n');
    assert.equal(searches()[0]?.url.searchParams.get('n'), '2');
    await ok(['--limit', '0', `${host}/busybox`]);
    assert.equal(searches()[1]?.url.searchParams.get('n'), '25');

    seen.length = 0;
    for (const bad of ['101', '-1']) {
      const r = await run(['--limit', bad, `${host}/busybox`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Error: limit ${bad} is outside the range of [1, 100]\n`);
      assert.equal(r.stdout, '');
    }
    const word = await run(['--limit', 'ten', `${host}/busybox`]);
    assert.equal(word.code, 125);
    assert.equal(word.stderr, 'Error: invalid argument "ten" for "--limit" flag: strconv.ParseInt: parsing "ten": invalid syntax\n');
    assert.equal(seen.length, 0, 'a bad limit sends nothing');
  });

  it('filters by stars, is-official and is-automated; bad filters are one error line', async () => {
    const names = async (...filters: string[]) =>
      (await ok([...filters.flatMap((f) => ['-f', f]), '--format', '{{.Name}}', `${host}/busybox`])).stdout;
    assert.equal(await names('stars=10'), 'busybox\nsomeone/busybox\n');
    assert.equal(await names('stars=10', 'stars=100'), 'busybox\n');
    assert.equal(await names('is-official=true'), 'busybox\n');
    assert.equal(await names('is-official=false', 'stars=1'), 'someone/busybox\n');
    assert.equal(await names('IS-OFFICIAL = 1 '), 'busybox\n');
    const automated = await ok(['-f', 'is-automated=true', '--format', '{{.Name}}', `${host}/busybox`]);
    assert.equal(automated.stdout, 'someone/busybox\n');
    assert.match(automated.stderr, /^WARNING: the "is-automated" filter is deprecated/);
    assert.equal(await names('stars=0', 'is-official=false'), 'someone/busybox\nother/busybox-tools\n');
    // The registry applies the limit, gantry the filters afterwards (as Docker does): the one
    // result asked for is official, so nothing is left.
    seen.length = 0;
    const limited = await ok(['--limit', '1', '-f', 'is-official=false', '--format', '{{.Name}}', `${host}/busybox`]);
    assert.equal(limited.stdout, '');
    assert.equal(searches()[0]?.url.searchParams.get('n'), '1');

    seen.length = 0;
    const failures: [string, number, string][] = [
      ['name=busybox', 1, "Error: invalid filter 'name'\n"],
      ['is-official=maybe', 1, "Error: invalid filter 'is-official=maybe'\n"],
      ['stars=lots', 1, 'Error: invalid filter \'stars=lots\': strconv.Atoi: parsing "lots": invalid syntax\n'],
      ['stars', 125, 'Error: invalid argument "stars" for "-f, --filter" flag: bad format of filter (expected name=value)\n'],
    ];
    for (const [filter, code, stderr] of failures) {
      const r = await run(['-f', filter, `${host}/busybox`]);
      assert.equal(r.code, code, filter);
      assert.equal(r.stderr, stderr);
      assert.equal(r.stdout, '');
    }
    assert.equal(seen.length, 0, 'a bad filter sends nothing');
  });

  it('--format: templates with every field, tables with their headers, and json', async () => {
    const tmpl = await ok(['--format', '{{.Name}}|{{.Description}}|{{.StarCount}}|{{.IsOfficial}}|{{.IsAutomated}}', `${host}/busybox`]);
    assert.equal(
      tmpl.stdout,
      [
        'busybox|Busybox base image.|3112|[OK]|',
        'someone/busybox|A description that is longer than forty-five…|12||[OK]',
        'other/busybox-tools|line one line two|0||',
        '',
      ].join('\n'),
    );
    const table = await ok(['--format', 'table {{.Name}}\\t{{.IsAutomated}}\\t{{.StarCount}}', `${host}/busybox`]);
    assert.equal(
      table.stdout,
      [
        'NAME                  AUTOMATED   STARS',
        'busybox                           3112',
        'someone/busybox       [OK]        12',
        'other/busybox-tools               0',
        '',
      ].join('\n'),
    );
    const json = await ok(['--format', 'json', `${host}/busybox-tools`]);
    assert.equal(
      json.stdout,
      '{"Description":"line one line two","IsAutomated":"false","IsOfficial":"false","Name":"other/busybox-tools","StarCount":"0"}\n',
    );
    const same = await ok(['--format', '{{json .}}', '--limit', '1', `${host}/busybox`]);
    assert.equal(same.stdout, '{"Description":"Busybox base image.","IsAutomated":"false","IsOfficial":"true","Name":"busybox","StarCount":"3112"}\n');
    const empty = await ok([`${host}/nothing-matches`]);
    assert.equal(empty.stdout, 'NAME      DESCRIPTION   STARS     OFFICIAL\n');

    const bad = await run(['--format', '{{.Stars}}', `${host}/busybox`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: template parsing error: .*can't evaluate field Stars/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  });

  it('sends the stored credentials of the registry as Basic authentication', async () => {
    const config = join(configDir, 'config.json');
    await writeFile(config, JSON.stringify({ auths: { [host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }));
    try {
      await ok(['--format', '{{.Name}}', `${host}/busybox`]);
      assert.equal(searches()[0]?.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    } finally {
      await rm(config, { force: true });
    }
  });

  it('fails with one line and exit 1 for a registry without search, a closed port and a scheme', async () => {
    const none = await run([`${plainHost}/busybox`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`^Error: ${plainHost.replace(/\./g, '\\.')} does not support search: Unexpected status code 404 \\(hint: .*\\)\n$`));
    assert.equal(none.stdout, '');

    const closedPort = await listen(() => undefined);
    await close(closedPort.server);
    const closed = await run([`${closedPort.host}/busybox`]);
    assert.equal(closed.code, 1);
    assert.equal(
      closed.stderr,
      `Error: Get "https://${closedPort.host}/v1/search?q=busybox&n=25": dial tcp ${closedPort.host}: connect: connection refused\n`,
    );

    const scheme = await run([`http://${host}/busybox`]);
    assert.equal(scheme.code, 1);
    assert.equal(scheme.stderr, `Error: invalid repository name: repository name (http://${host}/busybox) should not have a scheme\n`);
  });
});
