/**
 * The hub's web UI in a real browser: Debian's chromium, headless, driven by playwright-core,
 * against the real `gantry hub serve --config` with accounts, and an image pushed with the real
 * `gantry push`. It signs in, creates a repository, sees the pushed tags and layers, searches
 * by typing, stars, deletes a tag; checks that a description with HTML and script renders as
 * text and runs nothing, that a cookie-authenticated write without the CSRF token is refused,
 * and that the pages fit a 375 px wide screen. Screenshots of the main pages go to
 * test-output/hub-ui/.
 *
 * Why a browser: the UI's promises (results as you type, the SPA routes served by the hub, the
 * CSP letting the bundle run and nothing else, keyboard and narrow layouts) only hold or fail
 * in one.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { GANTRY, needsRoot, REPO, runCommand, type Sandbox } from '../support/harness.js';
import { HubProcess } from '../support/hub.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-output', 'hub-ui');
const PASSWORD = 'alice-s3cret-pw';
const skip = !existsSync(CHROMIUM)
  ? `needs ${CHROMIUM} (apt-get install chromium; scripts/setup.sh installs it)`
  : !existsSync(join(REPO, 'dist', 'hub-ui', 'index.html'))
    ? 'needs the built UI (npm run build:ui)'
    : needsRoot;

describe('the hub web UI in a browser', { skip, timeout: 120_000 }, () => {
  let dataDir: string;
  let dockerConfig: string;
  let hub: HubProcess;
  let sb: Sandbox;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  const shot = (name: string, p: Page = page) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const gantry = async (args: string[], input?: string) => {
    const r = await sb.run(args, { env: { DOCKER_CONFIG: dockerConfig, GANTRY_DAEMON_CONFIG: '/nonexistent' }, input });
    assert.equal(r.code, 0, `gantry ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** The session cookie and CSRF token the browser holds. */
  const session = async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'hub_session');
    assert.ok(cookie, 'the browser holds a hub_session cookie');
    const s = (await page.evaluate(() => fetch('/api/session').then((r) => r.json()))) as { csrfToken: string };
    return { cookie: `hub_session=${cookie.value}`, csrf: s.csrfToken };
  };

  /** Records dialogs and script errors of a page (and, with HUB_UI_TRACE=1, its API traffic). */
  const instrument = (p: Page) => {
    p.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      // The UI's own confirmations (delete a tag) are accepted; anything else is recorded.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
    p.on('pageerror', (e) => pageErrors.push(String(e)));
    // An aborted request is the page leaving or closing a finished log stream, not a failure.
  p.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') pageErrors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
    if (process.env.HUB_UI_TRACE) {
      const started = new Map<object, number>();
      p.on('request', (r) => started.set(r, Date.now()));
      p.on('requestfinished', (r) => console.log(`# ${Date.now() - (started.get(r) ?? 0)}ms ${r.method()} ${r.url()}`));
      p.on('response', (r) => {
        if (r.url().includes('/api/')) void r.text().then((t) => console.log(`# ${r.status()} ${r.request().method()} ${r.url()} ${t.slice(0, 300)}`), () => {});
      });
    }
    p.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[1349]/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  };

  before(async () => {
    dataDir = await mkdtemp('/var/tmp/gantry-hub-ui-');
    dockerConfig = await mkdtemp('/var/tmp/gantry-docker-config-ui-');
    await mkdir(SHOTS, { recursive: true });
    const user = await runCommand(GANTRY, ['hub', 'user', 'create', 'alice', '--password-stdin', '--data', dataDir], { input: `${PASSWORD}\n` });
    assert.equal(user.code, 0, user.stderr);
    const bob = await runCommand(GANTRY, ['hub', 'user', 'create', 'bob', '--password-stdin', '--data', dataDir], { input: 'bob-s3cret-pw\n' });
    assert.equal(bob.code, 0, bob.stderr);
    [hub, sb, browser] = await Promise.all([
      HubProcess.start({ data: dataDir, config: { auth: { token: { service: 'gantry-hub-ui-e2e', issuer: 'gantry-hub-ui-e2e', expiration: '5m' } } } }),
      busyboxSandbox('gantry-e2e-hub-ui-'),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true }),
    ]);
    context = await browser.newContext({ baseURL: hub.url, viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    // NOTE: generous waits: this machine's two cores are shared with benchmarks and other suites.
    context.setDefaultTimeout(15_000);
    instrument(page);
  });
  after(async () => {
    await browser?.close();
    await hub?.destroy();
    await destroyWithContainers(sb);
    await Promise.all([dataDir, dockerConfig].map((d) => d && rm(d, { recursive: true, force: true })));
  });

  it('serves the app with its security headers for any page path', async () => {
    const res = await fetch(`${hub.url}/r/alice/anything`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('signs in and creates a repository', async () => {
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/repositories');
    await page.getByRole('button', { name: /Sign out/ }).waitFor();
    await shot('my-repositories-empty');

    await page.getByLabel('Name', { exact: true }).fill('webapp');
    await page.getByLabel('Short description').fill('A small web application image');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL('**/r/alice/webapp');
    await page.getByRole('heading', { level: 1, name: /webapp/ }).waitFor();
    assert.match(await page.getByLabel('gantry pull command').inputValue(), new RegExp(`^gantry pull ${hub.host}/alice/webapp$`));
  });

  it('shows an image pushed with the CLI: its tags, then a tag’s layers and history', async () => {
    await gantry(['login', hub.host, '-u', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    for (const tag of ['1.0', 'latest']) {
      await gantry(['tag', 'busybox', `${hub.host}/alice/webapp:${tag}`]);
      await gantry(['push', `${hub.host}/alice/webapp:${tag}`]);
    }
    await page.getByRole('navigation', { name: 'Repository' }).getByRole('link', { name: 'Tags' }).click();
    const row = page.getByRole('row', { name: /^1\.0 / });
    await row.waitFor();
    assert.match(await row.innerText(), /sha256:[0-9a-f]{12}/);
    assert.match(await row.innerText(), /linux\/amd64|linux\/\w+/);
    assert.match(await row.innerText(), /\d(\.\d+)? (B|KB|MB)/);
    await page.getByRole('row', { name: /^latest / }).waitFor();
    await shot('tags');

    await row.getByRole('link', { name: '1.0' }).click();
    await page.waitForURL('**/r/alice/webapp/tags/1.0');
    const history = page.getByRole('list', { name: 'Image history' });
    await history.locator('li').first().waitFor();
    assert.ok((await history.locator('li').count()) >= 1);
    const blobs = page.locator('table').last();
    assert.match(await blobs.innerText(), /sha256:[0-9a-f]{12}/);
    await shot('layers');
  });

  it('finds the repository as the user types', async () => {
    await page.goto('/');
    // The search box has the focus on arrival: typing goes straight in.
    await page.locator('#q:focus').waitFor();
    await page.keyboard.type('webap', { delay: 40 });
    const result = page.getByRole('list', { name: 'Search results' }).getByRole('link', { name: 'alice/webapp' });
    await result.waitFor();
    assert.match(page.url(), /\/search\?q=webap$/);
    await shot('search');
    // Keyboard: tab to the result and open it.
    await result.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL('**/r/alice/webapp');
  });

  it('stars and unstars the repository', async () => {
    const star = page.getByRole('button', { name: /Star/ });
    await star.waitFor();
    assert.equal(await star.getAttribute('aria-pressed'), 'false');
    await star.click();
    await page.getByRole('button', { name: /Starred\s*1/ }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: /Starred\s*1/ }).waitFor();
    await shot('repository');
    await page.getByRole('button', { name: /Starred/ }).click();
    await page.getByRole('button', { name: /Star\s*0/ }).waitFor();
    await page.getByRole('button', { name: /Star\s*0/ }).click();
    await page.getByRole('button', { name: /Starred\s*1/ }).waitFor();
  });

  it('deletes a tag', async () => {
    await page.goto('/r/alice/webapp/tags');
    await page.getByRole('button', { name: 'Delete tag 1.0' }).click();
    await page.getByRole('row', { name: /^1\.0 / }).waitFor({ state: 'detached' });
    await page.getByRole('row', { name: /^latest / }).waitFor();
    assert.ok(dialogs.some((d) => d.startsWith('confirm: Delete tag 1.0')));
    const s = await session();
    const list = (await (await hub.fetch('/api/repositories/alice/webapp/tags', { headers: { cookie: s.cookie } })).json()) as { name: string }[];
    assert.deepEqual(list.map((t) => t.name), ['latest']);
  });

  it('renders HTML and script in a description as text, running nothing', async () => {
    const evil = [
      '# Evil <b>title</b>',
      '',
      '<img src=x onerror="window.__xss = 1; alert(1)">',
      '',
      '<script>window.__xss = 2; alert(2)</script>',
      '',
      '[click me](javascript:alert(3)) and [docs](https://example.com/docs)',
    ].join('\n');
    await page.goto('/r/alice/webapp/settings');
    await page.getByLabel('Overview (Markdown)').fill(evil);
    await page.getByLabel('Short description').fill('<svg onload=alert(4)>');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const before = dialogs.length;
    await page.goto('/r/alice/webapp');
    const md = page.locator('.markdown');
    await md.waitFor();
    assert.match(await md.innerText(), /<img src=x onerror="window.__xss = 1; alert\(1\)">/);
    assert.match(await md.innerText(), /<script>window.__xss = 2; alert\(2\)<\/script>/);
    assert.equal(await md.locator('img, script, b, svg').count(), 0);
    assert.equal(await md.locator('a[href^="javascript"]').count(), 0);
    assert.equal(await md.locator('a[href="https://example.com/docs"]').count(), 1);
    assert.match(await page.locator('.lead').innerText(), /<svg onload=alert\(4\)>/);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.deepEqual(dialogs.slice(before), [], 'no dialog opened');
    await shot('xss-description');
  });

  it('refuses a cookie-authenticated write without the CSRF token (API level)', async () => {
    const s = await session();
    const body = JSON.stringify({ namespace: 'alice', name: 'csrf-probe', is_private: false });
    const without = await hub.fetch('/api/repositories', { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json' }, body });
    assert.equal(without.status, 403);
    assert.equal(((await without.json()) as { code: string }).code, 'DENIED');
    const wrong = await hub.fetch('/api/repositories/alice/webapp/star', { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(s.csrf.length) } });
    assert.equal(wrong.status, 403);
    const listed = (await (await hub.fetch('/api/repositories?namespace=me', { headers: { cookie: s.cookie } })).json()) as { name: string }[];
    assert.ok(!listed.some((r) => r.name === 'csrf-probe'), 'nothing was created');
    const withToken = await hub.fetch('/api/repositories', { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body });
    assert.equal(withToken.status, 201, 'the same request with the token is accepted');
  });

  it('adds a webhook, shows its delivery after a push, and deletes it', async () => {
    const received: { pusher?: string; tag?: string; repo?: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const p = JSON.parse(body) as { push_data: { pusher: string; tag: string }; repository: { repo_name: string } };
        received.push({ pusher: p.push_data.pusher, tag: p.push_data.tag, repo: p.repository.repo_name });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      await page.goto('/r/alice/webapp/webhooks');
      await page.getByLabel('Name', { exact: true }).fill('ci');
      await page.getByLabel('URL').fill(url);
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await page.getByText(url).waitFor();

      await gantry(['tag', 'busybox', `${hub.host}/alice/webapp:2.0`]);
      await gantry(['push', `${hub.host}/alice/webapp:2.0`]);
      for (let i = 0; i < 100 && !received.length; i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(received[0], { pusher: 'alice', tag: '2.0', repo: 'alice/webapp' });

      await page.getByRole('button', { name: 'Deliveries' }).click();
      await page.getByRole('cell', { name: 'delivered' }).waitFor();
      await shot('webhooks');
      await page.getByRole('button', { name: 'Delete webhook ci' }).click();
      await page.getByText(url).waitFor({ state: 'detached' });
      assert.ok(dialogs.some((d) => d.startsWith('confirm: Delete webhook ci')));
    } finally {
      receiver.close();
    }
  });

  it('saves automated build settings, triggers a build and streams its log live', async () => {
    // A git server that holds the clone for 3 s and then has no such repository: the build is
    // running (and its log streaming) long enough to watch, and then fails.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const git = createServer((_req, res) => {
      void Promise.race([held, new Promise((r) => setTimeout(r, 3000))]).then(() => res.writeHead(404).end('no such repository'));
    });
    await new Promise<void>((r) => git.listen(0, '127.0.0.1', r));
    try {
      await page.goto('/r/alice/webapp/builds');
      await page.getByLabel('Clone URL').fill(`http://127.0.0.1:${(git.address() as AddressInfo).port}/alice/source.git`);
      await page.getByLabel(/Webhook secret/).fill('build-secret');
      const rule = page.getByRole('group', { name: 'Rule 1' });
      await rule.getByLabel('Source', { exact: true }).fill('main');
      await rule.getByLabel('Docker tag').fill('edge');
      await page.getByRole('button', { name: 'Save build settings' }).click();
      await page.getByText('Saved.').waitFor();
      await page.getByText('(set; leave empty to keep it)').waitFor();

      await rule.getByRole('button', { name: 'Trigger' }).click();
      const link = page.getByRole('link', { name: /^#\d+$/ }).first();
      await link.waitFor();
      await shot('builds');
      await link.click();
      await page.waitForURL(/\/r\/alice\/webapp\/builds\/\d+$/);
      // While git waits: the page follows the log over EventSource.
      await page.getByText('Streaming the log…').waitFor();
      await page.getByLabel('Build log').getByText(/cloning http:\/\/127\.0\.0\.1:\d+\/alice\/source\.git/).waitFor();
      await shot('build-log-live');
      release();
      // Then the stream's end event: the build is failed, with git's complaint in its log.
      await page.locator('.status.failed').waitFor({ timeout: 30_000 });
      assert.match(await page.getByLabel('Build log').innerText(), /fatal: [\s\S]*build failed/);
      await shot('build-log');
    } finally {
      release();
      git.close();
    }
  });

  it('creates an organisation, adds and removes a member, and makes an organisation repository private then deletes it', async () => {
    await page.getByRole('link', { name: 'Organisations' }).click();
    await page.waitForURL('**/orgs');
    await page.getByLabel('Name').fill('acme');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL('**/orgs/acme');
    await page.getByRole('row', { name: /^alice owner/ }).waitFor();
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Pull only').check();
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('row', { name: /^bob member pull only/ }).waitFor();
    await shot('org-members');
    await page.getByRole('button', { name: 'Remove bob' }).click();
    await page.getByRole('row', { name: /^bob / }).waitFor({ state: 'detached' });

    await page.getByRole('link', { name: 'My repositories' }).click();
    await page.getByText('Create a repository').click();
    await page.getByLabel('Namespace').selectOption('acme');
    await page.getByLabel('Name', { exact: true }).fill('tools');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL('**/r/acme/tools');
    await page.getByRole('navigation', { name: 'Repository' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Private').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const anonymous = await hub.fetch('/api/repositories/acme/tools');
    assert.equal(anonymous.status, 404, 'a private repository is hidden from anonymous callers');
    await page.goto('/repositories');
    await page.getByRole('listitem').filter({ hasText: 'acme/tools' }).getByText('private').waitFor();
    await shot('my-repositories');
    await page.goto('/r/acme/tools/settings');
    await page.getByRole('button', { name: 'Delete acme/tools' }).click();
    await page.waitForURL('**/repositories');
    assert.ok(dialogs.some((d) => d.startsWith('confirm: Delete acme/tools')));
    const s = await session();
    assert.equal((await hub.fetch('/api/repositories/acme/tools', { headers: { cookie: s.cookie } })).status, 404);
  });

  it('fits a 375 px wide screen', async () => {
    const narrow = await context.newPage();
    instrument(narrow);
    await narrow.setViewportSize({ width: 375, height: 812 });
    for (const [path, name, heading] of [
      ['/r/alice/webapp/tags', 'narrow-tags', /webapp/],
      ['/r/alice/webapp', 'narrow-repository', /webapp/],
      ['/r/alice/webapp/tags/latest', 'narrow-layers', /webapp/],
      ['/r/alice/webapp/builds', 'narrow-builds', /webapp/],
      ['/search?q=webapp', 'narrow-search', /Find container images/],
      ['/repositories', 'narrow-my-repositories', /My repositories/],
    ] as const) {
      await narrow.goto(path);
      await narrow
        .getByRole('heading', { level: 1, name: heading })
        .waitFor()
        .catch(async (e: unknown) => {
          await shot(`${name}-failure`, narrow);
          throw e;
        });
      await narrow.waitForLoadState('networkidle');
      await shot(name, narrow);
      const overflow = (await narrow.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      const wide = await narrow.evaluate(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className).join(', ')`,
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 375 px (${String(wide)})`);
    }
    await narrow.close();
  });

  it('works on a hub without accounts: no sign-in, loopback may create, star and edit', async () => {
    const open = await HubProcess.start();
    const ctx = await browser.newContext({ baseURL: open.url });
    try {
      const p = await ctx.newPage();
      instrument(p);
      await p.goto('/');
      await p.getByRole('link', { name: 'My repositories' }).click();
      assert.equal(await p.getByRole('link', { name: 'Sign in' }).count(), 0);
      await p.getByLabel('Namespace').fill('library');
      await p.getByLabel('Name', { exact: true }).fill('demo');
      assert.equal(await p.getByRole('group', { name: 'Visibility' }).count(), 0, 'no private repositories without accounts');
      await p.getByRole('button', { name: 'Create' }).click();
      await p.waitForURL('**/r/library/demo');
      await p.getByRole('button', { name: /Star\s*0/ }).click();
      await p.getByRole('button', { name: /Starred\s*1/ }).waitFor();
      await p.getByRole('navigation', { name: 'Repository' }).getByRole('link', { name: 'Settings' }).click();
      await p.getByLabel('Overview (Markdown)').fill('## Demo\n\nRun `gantry run library/demo`.');
      await p.getByRole('button', { name: 'Save' }).click();
      await p.getByText('Saved.').waitFor();
      await p.getByRole('navigation', { name: 'Repository' }).getByRole('link', { name: 'Overview' }).click();
      await p.getByRole('heading', { level: 2, name: 'Demo' }).waitFor();
      await shot('no-accounts-repository', p);
    } finally {
      await ctx.close();
      await open.destroy();
    }
  });

  it('signs out', async () => {
    await page.goto('/repositories');
    await page.getByRole('button', { name: /Sign out/ }).click().catch(async (e: unknown) => {
      await shot('signout-failure');
      throw new Error(`${String(e)}; session: ${JSON.stringify(await page.evaluate("fetch('/api/session').then((r) => r.status + ' ' + r.statusText)"))}`);
    });
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    const s = (await page.evaluate(() => fetch('/api/session').then((r) => r.json()))) as { username: string | null };
    assert.equal(s.username, null);
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  });
});
