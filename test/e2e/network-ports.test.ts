/**
 * Published ports end to end: `-p` served to the host's HTTP client on 127.0.0.1 and to
 * another container through the host's address, random host ports, `-P`, ranges, `gantry
 * port`, and a taken host port refused with Docker's error and nothing left behind.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { allIds, busyboxSandbox, destroyWithContainers, inspect } from '../support/containers.js';
import { needsRoot, type Sandbox } from '../support/harness.js';
import { fetchFrom, hostNetworkState, sh, sweepDeletedRoots, webServer } from './network-helpers.js';

/** A free TCP port on the host (from the kernel). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await res.text()).trim();
}

describe('gantry run -p', { skip: needsRoot }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-ports-');
  });
  after(async () => {
    await destroyWithContainers(sb);
    await sweepDeletedRoots();
  });

  it('a published port serves the host on 127.0.0.1 and other containers through the host address', async () => {
    const port = await freePort();
    const id = await webServer(sb, ['--name', 'pub', '-p', `${port}:80`], 'published');
    assert.equal(await get(`http://127.0.0.1:${port}/`), 'published');
    assert.equal((await sb.ok(['port', 'pub'])).stdout, `80/tcp -> 0.0.0.0:${port}\n`);
    assert.equal((await sb.ok(['port', 'pub', '80'])).stdout, `0.0.0.0:${port}\n`);
    const c = await inspect(sb, id);
    assert.deepEqual(c.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }] });
    assert.match((await sb.ok(['ps', '--format', '{{.Ports}}', '--filter', 'name=pub'])).stdout, new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));
    // Another container reaches it through the bridge's gateway, a host address.
    const gw = c.NetworkSettings.Gateway;
    assert.equal((await fetchFrom(sb, [], `http://${gw}:${port}/`)).out, 'published');
    await sb.ok(['rm', '-f', 'pub']);
    await assert.rejects(get(`http://127.0.0.1:${port}/`), 'nothing answers once removed');
  });

  it('random host ports: -p CONTAINERPORT, -P for EXPOSEd ports, ranges, a host address', async () => {
    const id = await webServer(sb, ['-p', '80', '-P', '--expose', '81', '-p', '127.0.0.1::82/udp'], 'random');
    const ports = (await inspect(sb, id)).NetworkSettings.Ports;
    const p80 = Number(ports['80/tcp'][0].HostPort);
    assert.ok(p80 > 1024, `random port ${p80}`);
    assert.equal(await get(`http://127.0.0.1:${p80}/`), 'random');
    assert.ok(Number(ports['81/tcp'][0].HostPort) > 1024, '-P publishes --expose 81');
    assert.equal(ports['82/udp'][0].HostIp, '127.0.0.1');
    await sb.ok(['rm', '-f', id]);
    const lo = await freePort();
    const range = await webServer(sb, ['-p', `${lo}-${lo + 1}:80-81`], 'range');
    const rp = (await inspect(sb, range)).NetworkSettings.Ports;
    assert.deepEqual([rp['80/tcp'][0].HostPort, rp['81/tcp'][0].HostPort], [String(lo), String(lo + 1)]);
    assert.equal(await get(`http://127.0.0.1:${lo}/`), 'range');
    await sb.ok(['rm', '-f', range]);
  });

  it('a taken host port fails the start with Docker\'s error and leaves nothing', async () => {
    const port = await freePort();
    const holder: Server = await new Promise((resolve) => {
      const s = createServer().listen(port, '0.0.0.0', () => resolve(s));
    });
    try {
      const r = await sb.run(['run', '-d', '--name', 'clash', '-p', `${port}:80`, 'busybox', 'sleep', '60']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
      assert.equal((await inspect(sb, 'clash')).State.Running, false);
      const afterState = await hostNetworkState();
      assert.deepEqual(afterState.rules.filter((l) => l.includes(String(port))), [], 'no DNAT rule');
      // No veth left on this sandbox's bridge (other test files run containers at the same time).
      const bridge = (await sb.ok(['network', 'inspect', 'bridge', '-f', '{{index .Options "com.docker.network.bridge.name"}}'])).stdout.trim();
      assert.equal((await sh('ip', ['-o', 'link', 'show', 'master', bridge])).trim(), '', 'no veth');
      await sb.ok(['rm', 'clash']);
    } finally {
      holder.close();
    }
    // Taken by another container's mapping (no process listens on the host).
    const other = await freePort();
    const first = await webServer(sb, ['-p', `${other}:80`], 'first');
    const second = await sb.run(['run', '-d', '-p', `${other}:80`, 'busybox', 'sleep', '60']);
    assert.match(second.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${other} failed: port is already allocated`));
    assert.ok((await allIds(sb)).includes(first));
    await sb.ok(['rm', '-f', ...(await allIds(sb))]);
  });
});
