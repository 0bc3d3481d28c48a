/**
 * Egress end to end: NAT to an "outside host" (a network namespace the test creates and
 * routes to), gantry's egress policies per container and per network letting an allowed
 * outside host through and rejecting another, and names outside the network answered by the
 * container's `--dns` upstream (a busybox dnsd the test runs on 127.0.0.x): no traffic leaves
 * the machine.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { needsRoot, type Sandbox } from '../support/harness.js';
import { fetchFrom, OutsideHost, sweepDeletedRoots } from './network-helpers.js';

/** A DNS server on `ip`:53 answering A queries for `names` (NXDOMAIN otherwise); records what it is asked. */
function dnsServer(ip: string, names: Record<string, string>, asked: string[]): Promise<Socket> {
  const sock = createSocket('udp4');
  sock.on('message', (q, peer) => {
    let i = 12;
    const labels: string[] = [];
    while (q[i]) {
      labels.push(q.subarray(i + 1, i + 1 + (q[i] as number)).toString());
      i += (q[i] as number) + 1;
    }
    const question = q.subarray(12, i + 5);
    const name = labels.join('.').toLowerCase();
    asked.push(name);
    const type = q.readUInt16BE(i + 1);
    const addr = type === 1 ? names[name] : undefined;
    const header = Buffer.alloc(12);
    q.copy(header, 0, 0, 2);
    header.writeUInt16BE(names[name] ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addr ? 1 : 0, 6);
    const answer = addr ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...addr.split('.').map(Number)]) : Buffer.alloc(0);
    sock.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  return new Promise((resolve) => sock.bind(53, ip, () => resolve(sock)));
}

describe('gantry egress', { skip: needsRoot }, () => {
  let sb: Sandbox;
  let allowed: OutsideHost;
  let denied: OutsideHost;
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-egress-');
    allowed = await OutsideHost.create(201, 'allowed-host');
    denied = await OutsideHost.create(202, 'denied-host');
  });
  after(async () => {
    await destroyWithContainers(sb);
    await allowed?.destroy();
    await denied?.destroy();
    await sweepDeletedRoots();
  });

  it('containers reach outside hosts through NAT by default (default bridge and user networks)', async () => {
    assert.equal((await fetchFrom(sb, [], `http://${allowed.ip}/`)).out, 'allowed-host');
    await sb.ok(['network', 'create', 'open']);
    assert.equal((await fetchFrom(sb, ['--network', 'open'], `http://${denied.ip}/`)).out, 'denied-host');
  });

  it('run --egress deny --egress-allow lets the allowed outside host through and rejects the other', async () => {
    const policy = ['--egress', 'deny', '--egress-allow', `${allowed.ip}/32:80/tcp`];
    assert.equal((await fetchFrom(sb, policy, `http://${allowed.ip}/`)).out, 'allowed-host');
    const r = await fetchFrom(sb, policy, `http://${denied.ip}/`);
    assert.notEqual(r.code, 0);
    assert.equal(r.out, '');
    // The port is part of the entry.
    assert.notEqual((await fetchFrom(sb, ['--egress', 'deny', '--egress-allow', `${allowed.ip}:443`], `http://${allowed.ip}/`)).code, 0);
    // Without a policy, the same host is reachable again.
    assert.equal((await fetchFrom(sb, [], `http://${denied.ip}/`)).out, 'denied-host');
    const bad = await sb.run(['run', '--rm', '--egress-allow', 'nonsense', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid --egress-allow "nonsense"/);
  });

  it('network create --egress deny applies to every container of the network, which still reach each other', async () => {
    await sb.ok(['network', 'create', '--egress', 'deny', '--egress-allow', allowed.ip, 'guarded']);
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'guarded'])).stdout);
    assert.deepEqual(n.Egress, { mode: 'deny', allow: [{ cidr: `${allowed.ip}/32` }] });
    assert.equal((await fetchFrom(sb, ['--network', 'guarded'], `http://${allowed.ip}/`)).out, 'allowed-host');
    assert.notEqual((await fetchFrom(sb, ['--network', 'guarded'], `http://${denied.ip}/`)).code, 0);
    await sb.ok(['run', '-d', '--name', 'peer', '--network', 'guarded', 'busybox', 'sh', '-c', 'mkdir /w && echo peer > /w/index.html && exec httpd -f -p 80 -h /w']);
    assert.equal((await fetchFrom(sb, ['--network', 'guarded'], 'http://peer/')).out, 'peer', 'own network allowed, names too');
    await sb.ok(['rm', '-f', 'peer']);
    await sb.ok(['network', 'rm', 'guarded']);
  });

  it('names that are not containers go to the container\'s --dns upstream', async () => {
    const upstream = '127.0.0.53';
    const asked: string[] = [];
    const server = await dnsServer(upstream, { 'outside.example': allowed.ip }, asked);
    try {
      const args = ['--network', 'open', '--dns', upstream];
      assert.equal((await fetchFrom(sb, args, 'http://outside.example/')).out, 'allowed-host');
      assert.ok(asked.includes('outside.example'), `the upstream was asked: ${asked.join(', ')}`);
      const container = await sb.run(['run', '--rm', ...args, 'busybox', 'cat', '/etc/resolv.conf']);
      assert.doesNotMatch(container.stdout, /127\.0\.0\.53/, 'the container asks the network\'s DNS, which forwards');
    } finally {
      server.close();
    }
  });
});
