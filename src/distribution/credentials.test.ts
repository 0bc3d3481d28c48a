import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CredentialStore, credentialKey, dockerConfigDir } from './credentials.js';

describe('credentials', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-creds-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys Docker Hub by its legacy URL and other registries by host', () => {
    assert.equal(credentialKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(credentialKey('localhost:5000'), 'localhost:5000');
    assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/x' }), '/x');
    assert.equal(dockerConfigDir({ HOME: '/home/u' }), '/home/u/.docker');
  });

  it('stores base64 auths in a 0600 file, keeping unknown fields, and erases them', async () => {
    const cfg = join(dir, 'plain');
    const store = new CredentialStore(cfg);
    assert.equal(await store.get('localhost:5000'), undefined);
    await store.store('localhost:5000', { username: 'alice', password: 'p:w' });
    const file = JSON.parse(await readFile(store.path, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(file.auths['localhost:5000']?.auth, Buffer.from('alice:p:w').toString('base64'));
    assert.equal((await stat(store.path)).mode & 0o777, 0o600);
    assert.deepEqual(await store.get('localhost:5000'), { username: 'alice', password: 'p:w' });

    await writeFile(store.path, JSON.stringify({ ...file, psFormat: 'table {{.ID}}' }));
    await store.store('docker.io', { username: 'bob', password: 'secret' });
    const again = JSON.parse(await readFile(store.path, 'utf8')) as Record<string, unknown>;
    assert.equal(again.psFormat, 'table {{.ID}}');
    assert.deepEqual(await store.get('docker.io'), { username: 'bob', password: 'secret' });

    assert.equal(await store.erase('localhost:5000'), true);
    assert.equal(await store.erase('localhost:5000'), false);
    assert.equal(await store.get('localhost:5000'), undefined);
    assert.deepEqual(await store.get('docker.io'), { username: 'bob', password: 'secret' });
  });

  it('matches URL-form keys written by older clients', async () => {
    const cfg = join(dir, 'url');
    const store = new CredentialStore(cfg);
    await store.store('placeholder', { username: 'x', password: 'y' }); // creates the directory
    await writeFile(store.path, JSON.stringify({ auths: { 'https://reg.example:5000/v1/': { auth: Buffer.from('u:p').toString('base64') } } }));
    assert.deepEqual(await store.get('reg.example:5000'), { username: 'u', password: 'p' });
  });

  it('refuses a malformed file with its path', async () => {
    const cfg = join(dir, 'bad');
    const store = new CredentialStore(cfg);
    await store.store('a', { username: 'x', password: 'y' });
    await writeFile(store.path, '{not json');
    await assert.rejects(store.get('a'), (e: Error) => e.message.includes(store.path));
  });

  it('uses credHelpers and credsStore helpers through the helper protocol', async () => {
    const bin = join(dir, 'bin');
    const cfg = join(dir, 'helper');
    const secrets = join(dir, 'helper-secrets.json');
    const store = new CredentialStore(cfg);
    await store.store('seed', { username: 'x', password: 'y' });
    await writeFile(store.path, JSON.stringify({ credHelpers: { 'reg.example': 'fake' } }));
    // A helper in shell + node: keeps secrets in a JSON file keyed by server URL.
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin);
    const helper = join(bin, 'docker-credential-fake');
    await writeFile(
      helper,
      `#!/usr/bin/env node
const fs = require('fs'); const f = ${JSON.stringify(secrets)};
const db = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : {};
const input = fs.readFileSync(0, 'utf8').trim();
const action = process.argv[2];
if (action === 'store') { const c = JSON.parse(input); db[c.ServerURL] = c; fs.writeFileSync(f, JSON.stringify(db)); }
else if (action === 'get') { const c = db[input]; if (!c) { console.log('credentials not found in native keychain'); process.exit(1); } console.log(JSON.stringify(c)); }
else if (action === 'erase') { if (!db[input]) { console.log('credentials not found in native keychain'); process.exit(1); } delete db[input]; fs.writeFileSync(f, JSON.stringify(db)); }
`,
    );
    await chmod(helper, 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      assert.equal(await store.usesHelper('reg.example'), true);
      assert.equal(await store.usesHelper('other'), false);
      assert.equal(await store.get('reg.example'), undefined);
      await store.store('reg.example', { username: 'carol', password: 'hunter2' });
      assert.deepEqual(await store.get('reg.example'), { username: 'carol', password: 'hunter2' });
      const file = await readFile(store.path, 'utf8');
      assert.ok(!file.includes('hunter2'), 'the secret stays out of config.json');
      assert.equal(await store.erase('reg.example'), true);
      assert.equal(await store.get('reg.example'), undefined);

      await writeFile(store.path, JSON.stringify({ credsStore: 'missing' }));
      await assert.rejects(store.get('any'), /docker-credential-missing.*executable file not found/);
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
