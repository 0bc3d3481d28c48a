/**
 * Bridge networks end to end: names between containers (name, alias, short ID), isolation
 * between networks, internal networks, a container on two networks, address reuse, the
 * default bridge, and teardown that leaves no link, address or rule behind. Traffic goes only
 * to containers the tests create.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers, inspect, pollUntil } from '../support/containers.js';
import { needsRoot, type Sandbox } from '../support/harness.js';
import { fetchFrom, hostNetworkState, leftovers, sh, sweepDeletedRoots, webServer } from './network-helpers.js';

describe('gantry network', { skip: needsRoot }, () => {
  let sb: Sandbox;
  const networkIds: string[] = [];
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-network-');
  });
  after(async () => {
    await destroyWithContainers(sb);
    await sweepDeletedRoots();
  });

  async function createNetwork(args: string[]): Promise<string> {
    const id = (await sb.ok(['network', 'create', ...args])).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    networkIds.push(id);
    return id;
  }

  it('ls lists bridge, host and none as Docker does; inspect has Docker\'s shape', async () => {
    const names = (await sb.ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'])).stdout.trim().split('\n');
    assert.deepEqual(names, ['bridge bridge local', 'host host local', 'none null local']);
    const id = await createNetwork(['--subnet', '10.231.0.0/24', '--label', 'team=a', '-o', 'com.docker.network.bridge.name=gt-e2e-br0', 'labelled']);
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'labelled'])).stdout);
    assert.equal(n.Id, id);
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.Scope, 'local');
    assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.231.0.0/24', Gateway: '10.231.0.1' }]);
    assert.deepEqual(n.Labels, { team: 'a' });
    assert.equal(n.Internal, false);
    assert.deepEqual(n.Containers, {});
    assert.match(await sh('ip', ['-o', 'addr', 'show', 'dev', 'gt-e2e-br0']), /inet 10\.231\.0\.1\/24/);
    assert.equal((await sb.ok(['network', 'ls', '-q', '--filter', 'label=team=a'])).stdout.trim(), id.slice(0, 12));
    const dup = await sb.run(['network', 'create', 'labelled']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /network with name labelled already exists/);
    const overlap = await sb.run(['network', 'create', '--subnet', '10.231.0.128/25', 'overlapping']);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    assert.equal((await sb.ok(['network', 'rm', 'labelled'])).stdout, 'labelled\n');
    assert.equal(await sh('sh', ['-c', 'ip -o link show gt-e2e-br0 2>/dev/null || true']), '');
    const missing = await sb.run(['network', 'rm', 'labelled']);
    assert.match(missing.stderr, /network labelled not found/);
    // prune removes unused user networks only, with their bridges.
    await createNetwork(['-o', 'com.docker.network.bridge.name=gt-e2e-br1', 'unused']);
    const pruned = await sb.ok(['network', 'prune', '-f']);
    assert.equal(pruned.stdout, 'Deleted Networks:\nunused\n');
    assert.equal(await sh('sh', ['-c', 'ip -o link show gt-e2e-br1 2>/dev/null || true']), '');
    assert.deepEqual((await sb.ok(['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n'), ['bridge', 'host', 'none']);
  });

  it('containers on a user network reach each other by name, alias and short ID; names go with them', async () => {
    await createNetwork(['app']);
    const web = await webServer(sb, ['--name', 'web', '--network', 'app', '--network-alias', 'frontend'], 'hello-web');
    for (const host of ['web', 'frontend', web.slice(0, 12)]) {
      assert.deepEqual(await fetchFrom(sb, ['--network', 'app'], `http://${host}/`), { code: 0, out: 'hello-web' }, `by ${host}`);
    }
    const c = await inspect(sb, 'web');
    const ep = c.NetworkSettings.Networks.app;
    assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(ep.Aliases, ['frontend']);
    assert.deepEqual(ep.DNSNames, ['web', 'frontend', web.slice(0, 12)]);
    assert.equal(c.NetworkSettings.IPAddress, '', 'top-level address is the default bridge\'s only, as in Docker');
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'app'])).stdout);
    assert.equal(n.Containers[web].Name, 'web');
    assert.equal(n.Containers[web].IPv4Address, `${ep.IPAddress}/${ep.IPPrefixLen}`);
    const resolv = (await sb.ok(['run', '--rm', '--network', 'app', 'busybox', 'cat', '/etc/resolv.conf'])).stdout;
    assert.match(resolv, new RegExp(`nameserver ${ep.Gateway.replace(/\./g, '\\.')}`));
    const busy = await sb.run(['network', 'rm', 'app']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`error while removing network: network app id ${n.Id} has active endpoints`));
    await sb.ok(['rm', '-f', 'web']);
    const gone = await sb.run(['run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'web']);
    assert.notEqual(gone.code, 0, `web still resolves: ${gone.stdout}`);
  });

  it('a container exiting by itself is detached by the monitor\'s exit hook', async () => {
    await createNetwork(['shortlived']);
    const id = (await sb.ok(['run', '-d', '--network', 'shortlived', 'busybox', 'sleep', '1'])).stdout.trim();
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'shortlived'])).stdout);
    assert.ok(n.Containers[id], 'attached while running');
    await pollUntil('the endpoint to go', async () => {
      const [m] = JSON.parse((await sb.ok(['network', 'inspect', 'shortlived'])).stdout);
      return Object.keys(m.Containers).length === 0;
    }, 10_000, 200);
    await sb.ok(['rm', id]);
    await sb.ok(['network', 'rm', 'shortlived']);
  });

  it('networks are isolated from each other; internal networks have no way out', async () => {
    await createNetwork(['isola']);
    await createNetwork(['isolb']);
    await createNetwork(['--internal', 'sealed']);
    const a = await webServer(sb, ['--network', 'isola'], 'in-a');
    const ipA = (await inspect(sb, a)).NetworkSettings.Networks.isola.IPAddress;
    assert.equal((await fetchFrom(sb, ['--network', 'isola'], `http://${ipA}/`)).out, 'in-a', 'same network');
    assert.notEqual((await fetchFrom(sb, ['--network', 'isolb'], `http://${ipA}/`, 2)).code, 0, 'from another network');
    const sealed = await sb.ok(['run', '--rm', '--network', 'sealed', 'busybox', 'ip', 'route']);
    assert.doesNotMatch(sealed.stdout, /default/, 'no default route on an internal network');
    assert.notEqual((await fetchFrom(sb, ['--network', 'sealed'], `http://${ipA}/`, 2)).code, 0, 'out of an internal network');
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'sealed'])).stdout);
    assert.equal(n.Internal, true);
    await sb.ok(['rm', '-f', a]);
  });

  it('network connect puts a container on two networks; it resolves names on both; disconnect undoes it', async () => {
    await createNetwork(['front']);
    await createNetwork(['back']);
    await webServer(sb, ['--name', 'api', '--network', 'front'], 'api');
    await webServer(sb, ['--name', 'db', '--network', 'back'], 'db');
    await sb.ok(['run', '-d', '--name', 'both', '--network', 'front', 'busybox', 'sleep', '60']);
    await sb.ok(['network', 'connect', '--alias', 'middle', 'back', 'both']);
    const nets = (await inspect(sb, 'both')).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['back', 'front']);
    for (const host of ['api', 'db']) {
      const r = await sb.run(['exec', 'both', 'timeout', '3', 'wget', '-qO-', `http://${host}/`]);
      assert.equal(r.stdout.trim(), host, `both reaches ${host}: ${r.stderr}`);
    }
    const byAlias = await sb.run(['exec', 'db', 'nslookup', 'middle']);
    assert.match(byAlias.stdout, new RegExp(nets.back.IPAddress.replace(/\./g, '\\.')));
    await sb.ok(['network', 'disconnect', 'back', 'both']);
    assert.deepEqual(Object.keys((await inspect(sb, 'both')).NetworkSettings.Networks), ['front']);
    assert.notEqual((await sb.run(['exec', 'both', 'timeout', '2', 'wget', '-qO-', `http://${nets.back.IPAddress}/`])).code, 0);
    await sb.ok(['rm', '-f', 'api', 'db', 'both']);
  });

  it('--ip gives a fixed address, refused while taken and free again after removal', async () => {
    await createNetwork(['--subnet', '10.232.5.0/24', 'fixed']);
    await sb.ok(['run', '-d', '--name', 'f1', '--network', 'fixed', '--ip', '10.232.5.50', 'busybox', 'sleep', '60']);
    assert.equal((await inspect(sb, 'f1')).NetworkSettings.Networks.fixed.IPAddress, '10.232.5.50');
    const taken = await sb.run(['run', '-d', '--network', 'fixed', '--ip', '10.232.5.50', 'busybox', 'sleep', '60']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /Address already in use/);
    await sb.ok(['rm', '-f', 'f1']);
    await sb.run(['container', 'prune', '-f']);
    await sb.ok(['run', '-d', '--name', 'f2', '--network', 'fixed', '--ip', '10.232.5.50', 'busybox', 'sleep', '60']);
    assert.equal((await inspect(sb, 'f2')).NetworkSettings.Networks.fixed.IPAddress, '10.232.5.50');
    const onDefault = await sb.run(['run', '--rm', '--ip', '10.88.9.9', 'busybox', 'true']);
    assert.match(onDefault.stderr, /user specified IP address is supported only when connecting to networks with user configured subnets/);
    await sb.ok(['rm', '-f', 'f2']);
  });

  it('the default bridge gives an address, a gateway and NAT; no names; host resolvers', async () => {
    const id = (await sb.ok(['run', '-d', 'busybox', 'sleep', '60'])).stdout.trim();
    const c = await inspect(sb, id);
    const ip = c.NetworkSettings.IPAddress;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(c.NetworkSettings.Networks.bridge.IPAddress, ip);
    assert.match(c.NetworkSettings.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'bridge'])).stdout);
    const subnet = n.IPAM.Config[0].Subnet;
    assert.ok(n.Containers[id]);
    assert.match(await sh('iptables-save', ['-t', 'nat']), new RegExp(`-s ${subnet.replace(/\./g, '\\.')} ! -o \\S+ .*-j MASQUERADE`));
    const hosts = (await sb.ok(['exec', id, 'cat', '/etc/hosts'])).stdout;
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\t${id.slice(0, 12)}$`, 'm'));
    const resolv = (await sb.ok(['exec', id, 'cat', '/etc/resolv.conf'])).stdout;
    assert.doesNotMatch(resolv, /nameserver 127\./);
    assert.doesNotMatch(resolv, new RegExp(`nameserver ${n.IPAM.Config[0].Gateway.replace(/\./g, '\\.')}`));
    const none = await sb.ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
    assert.deepEqual(none.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim()), ['lo']);
    await sb.ok(['rm', '-f', id]);
  });

  it('--network container: shares a namespace; its owner\'s teardown removes the veth from it; --rm frees address and veth', async () => {
    await createNetwork(['--subnet', '10.232.0.0/24', 'shared']);
    const owner = await webServer(sb, ['--name', 'owner', '--network', 'shared'], 'shared-web');
    const joiner = (await sb.ok(['run', '-d', '--name', 'joiner', '--network', 'container:owner', 'busybox', 'sleep', '60'])).stdout.trim();
    // One namespace: the joiner reaches the owner's server on its own loopback, and sees its eth0.
    assert.equal((await sb.ok(['exec', 'joiner', 'wget', '-qO-', 'http://127.0.0.1/'])).stdout.trim(), 'shared-web');
    const ownerIp = (await inspect(sb, owner)).NetworkSettings.Networks.shared.IPAddress;
    assert.match((await sb.ok(['exec', 'joiner', 'ip', '-o', '-4', 'addr'])).stdout, new RegExp(`eth0\\s+inet ${ownerIp.replace(/\./g, '\\.')}/24`));
    // The owner stops while the joiner holds the namespace: CNI DEL removes eth0 from it now,
    // since the namespace outlives the owner, and the address is free again.
    await sb.ok(['stop', '-t', '1', 'owner']);
    assert.doesNotMatch((await sb.ok(['exec', 'joiner', 'ip', '-o', 'link'])).stdout, /eth0/);
    const reuse = (await sb.ok(['run', '--rm', '--network', 'shared', '--ip', ownerIp, 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
    assert.match(reuse, new RegExp(`inet ${ownerIp.replace(/\./g, '\\.')}/24`));
    await sb.ok(['rm', '-f', joiner, owner]);
    // A container alone in its namespace: the kernel destroys the veth with the namespace, in
    // the background, and DEL releases the address; nothing of either stays.
    const before = await hostNetworkState();
    const ran = await sb.run(['run', '--rm', '--network', 'shared', 'busybox', 'true']);
    assert.equal(ran.code, 0, ran.stderr);
    await pollUntil('the veth of a removed container goes', async () => leftovers(before.links, (await hostNetworkState()).links, ['veth']).length === 0, 5000);
    const [net] = JSON.parse((await sb.ok(['network', 'inspect', 'shared'])).stdout);
    const reserved = readdirSync(join(sb.root, 'network', 'ipam', net.Id)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    assert.deepEqual(reserved, [], 'host-local holds no address');
    await sb.ok(['network', 'rm', 'shared']);
  });

  it('teardown leaves no link, address or rule behind', async () => {
    // The default bridge exists from the test above (it stays, as docker0 does).
    const before = await hostNetworkState();
    const marks: string[] = [];
    const net = await createNetwork(['--egress', 'deny', '--egress-allow', '192.0.2.0/24:443', 'leaky']);
    const [n] = JSON.parse((await sb.ok(['network', 'inspect', 'leaky'])).stdout);
    marks.push(net.slice(0, 12), n.IPAM.Config[0].Subnet, `gbr-${net.slice(0, 11)}`);
    const ids = [
      await webServer(sb, ['--network', 'leaky', '-p', '127.0.0.1::80'], 'x'),
      await webServer(sb, ['-p', '80', '--egress', 'deny'], 'y'),
      (await sb.ok(['run', '-d', '--network', 'leaky', '--egress-allow', '10.0.0.0/8', 'busybox', 'sleep', '60'])).stdout.trim(),
    ];
    for (const id of ids) marks.push(id.slice(0, 12), (await inspect(sb, id)).NetworkSettings.Networks[Object.keys((await inspect(sb, id)).NetworkSettings.Networks)[0] as string].IPAddress);
    const during = await hostNetworkState();
    assert.notDeepEqual(leftovers(before.rules, during.rules, marks), [], 'the marks find the rules made');
    await sb.ok(['rm', '-f', ...ids]);
    await sb.ok(['network', 'rm', 'leaky']);
    // veths go with their namespaces, which the kernel destroys in the background.
    await pollUntil('the veths go', async () => leftovers(before.links, (await hostNetworkState()).links, ['veth']).length === 0, 5000).catch(() => undefined);
    const afterState = await hostNetworkState();
    assert.deepEqual(leftovers(before.links, afterState.links, marks.concat('veth')), [], 'links');
    assert.deepEqual(leftovers(before.addrs, afterState.addrs, marks), [], 'addresses');
    assert.deepEqual(leftovers(before.rules, afterState.rules, marks), [], 'iptables rules');
    const count = (s: { rules: string[] }) => s.rules.filter((l) => l.startsWith(':CNI-DN-') || l.startsWith(':GANTRY-')).length;
    assert.equal(count(afterState), count(before), 'chains');
  });
});
