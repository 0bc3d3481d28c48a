import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLoopbackHost, loadRegistryConfig, Registries } from './registries.js';

describe('registry settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-registries-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('treats loopback hosts as insecure without configuration', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:443', '[::1]:5000', '::1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['registry.example', '10.0.0.1:5000', 'localhost.example']) assert.ok(!isLoopbackHost(h), h);
  });

  it('reads insecure-registries (hosts, host:port, CIDRs) and registry-mirrors from daemon.json', async () => {
    const path = join(dir, 'daemon.json');
    await writeFile(path, JSON.stringify({ 'insecure-registries': ['reg.example', 'other.example:5000', '10.1.0.0/16'], 'registry-mirrors': ['http://mirror.example:5000'] }));
    const env = { GANTRY_DAEMON_CONFIG: path, DOCKER_CONFIG: dir };
    assert.deepEqual(loadRegistryConfig(env).registryMirrors, ['http://mirror.example:5000']);
    const r = new Registries(env);
    try {
      assert.ok(r.isInsecure('reg.example'));
      assert.ok(r.isInsecure('reg.example:443'), 'a bare host covers its ports');
      assert.ok(r.isInsecure('other.example:5000'));
      assert.ok(!r.isInsecure('other.example:6000'));
      assert.ok(r.isInsecure('10.1.200.3:5000'));
      assert.ok(!r.isInsecure('10.2.0.1'));
      assert.ok(!r.isInsecure('secure.example'));
      assert.equal((await r.mirrors('docker.io')).length, 1, 'Docker Hub names go through the mirror');
      assert.equal((await r.mirrors('ghcr.io')).length, 0, 'other registries are not mirrored');
    } finally {
      r.close();
    }
  });

  it('refuses a daemon.json that is not JSON, naming it', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{');
    assert.throws(() => loadRegistryConfig({ GANTRY_DAEMON_CONFIG: path }), (e: Error) => e.message.includes(path));
  });

  it('has no settings without a file', () => {
    assert.deepEqual(loadRegistryConfig({ GANTRY_DAEMON_CONFIG: join(dir, 'absent.json') }), { insecureRegistries: [], registryMirrors: [] });
  });
});
