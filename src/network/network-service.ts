/**
 * The network service: bridge networks (create, list, inspect, remove, prune), the
 * connection of containers to them (at create, `network connect`/`disconnect`), and the
 * attachment of a running container's network namespace (CNI ADD at start, DEL at the end of
 * the run), with names (aardvark.ts), published ports (ports.ts) and egress policies
 * (firewall.ts). It does not know containers beyond their ID, name and namespace path: the
 * engine composes it with the container service.
 *
 * Lifecycle of a bridge network: its row is written at `network create`, then it is
 * *realized* — bridge device with the gateway address, iptables chains — at once (the default
 * `bridge` network on its first container), and re-realized when a reboot took the bridge
 * away. Containers attach to it while they run; `network rm` undoes everything.
 *
 * Concurrency: anything host-wide (bridges, subnets, rules, host ports, the DNS files) is
 * changed under the host's network lock (host-lock.ts); rows are written in SQLite
 * transactions.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../core/errors.js';
import { type Db, writeTx } from '../metadata/database.js';
import { AardvarkDns } from './aardvark.js';
import { ensureBridge, hostRoutes, linkExists, removeBridge } from './bridge.js';
import { type Cidr, contains, formatCidr, formatIPv4, overlaps, parseCidr, parseIPv4, pickSubnet, requireSubnet } from './cidr.js';
import { CniError, type CniResult, type ConfList, cniAdd, cniDel } from './cni.js';
import { bridgeConfList } from './cni-conf.js';
import type { EgressPolicy } from './egress.js';
import { removeContainerRules, removeNetworkRules, setupContainerRules, setupNetworkRules } from './firewall.js';
import { withHostLock } from './host-lock.js';
import { DETACHED, type EndpointRecord, type NetworkRecord, type NetworkSpec, NetworkStore, newNetworkId } from './network-store.js';
import type { ContainerNetworkView } from '../core/container-types.js';
import { reclaimBridge, register, sweepOrphans, unregister } from './orphans.js';
import { allocatePorts, type PortRequest } from './ports.js';
import { containerNetworkView, type NetworkInspect, networkView } from './views.js';

/** What the service needs. */
export interface NetworkServiceDeps {
  db: Db;
  /** The state root (host-local's data lives under it). */
  root: string;
  /** The run directory (the DNS server's files live under it). */
  runDir: string;
  /** The default network's bridge device: `gantry0` for the default root. */
  defaultBridge: string;
}

/** `network create` options (the Engine API's body, in gantry's words). */
export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipamOptions?: Record<string, string>;
  egress?: EgressPolicy;
}

/** A container's connection as create or `network connect` asks for it. */
export interface ConnectRequest {
  network: string;
  aliases?: string[];
  ipv4?: string;
}

/** What attaching a running container needs. */
export interface AttachRequest {
  containerId: string;
  name: string;
  /** The container's network namespace (a bind-mounted file). */
  netns: string;
  ports: PortRequest;
  /** The container's own egress policy, if any. */
  egress?: EgressPolicy;
  /** `--dns`: upstream servers for names that are not containers'. */
  dns: string[];
}

/** What the container's /etc files need after attaching. */
export interface AttachResult {
  /** The address on the primary network (for /etc/hosts). */
  ip?: string;
  /** Name servers for resolv.conf: the primary network's DNS; undefined: the host's. */
  nameservers?: string[];
}

const BRIDGE_OPTION = 'com.docker.network.bridge.name';
const MTU_OPTION = 'com.docker.network.driver.mtu';

/** The network service. */
export class NetworkService {
  readonly store: NetworkStore;
  private readonly dns: AardvarkDns;

  constructor(private readonly deps: NetworkServiceDeps) {
    this.store = new NetworkStore(deps.db);
    this.dns = new AardvarkDns(join(deps.runDir, 'dns'));
  }

  // ------------------------------------------------------------ networks

  /** The `bridge`, `host` and `none` networks, written on first use. */
  private ensureDefaults(): void {
    if (this.store.byName('bridge') && this.store.byName('host') && this.store.byName('none')) return;
    writeTx(this.deps.db, () => {
      const base = { subnet: '', gateway: '', ipRange: '', bridge: '', internal: false, attachable: false, isDefault: false, options: {}, ipamOptions: {}, labels: {}, userSubnet: false };
      const now = new Date().toISOString();
      const want: NetworkRecord[] = [
        {
          id: newNetworkId(),
          name: 'bridge',
          driver: 'bridge',
          created: now,
          spec: {
            ...base,
            bridge: this.deps.defaultBridge,
            isDefault: true,
            options: {
              'com.docker.network.bridge.default_bridge': 'true',
              'com.docker.network.bridge.enable_icc': 'true',
              'com.docker.network.bridge.enable_ip_masquerade': 'true',
              'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
              [BRIDGE_OPTION]: this.deps.defaultBridge,
              [MTU_OPTION]: '1500',
            },
          },
        },
        { id: newNetworkId(), name: 'host', driver: 'host', created: now, spec: { ...base } },
        { id: newNetworkId(), name: 'none', driver: 'null', created: now, spec: { ...base } },
      ];
      for (const n of want) {
        if (this.store.byName(n.name)) continue;
        this.deps.db
          .prepare(`INSERT INTO networks (id, name, driver, created, spec) VALUES (?, ?, ?, ?, ?)`)
          .run(n.id, n.name, n.driver, n.created, JSON.stringify(n.spec));
      }
    });
  }

  /** Finds a network by ID, name or ID prefix; Docker's "network X not found". */
  resolve(input: string): NetworkRecord {
    this.ensureDefaults();
    const n = this.store.tryResolve(input);
    if (!n) throw errors.notFound(`network ${input} not found`);
    return n;
  }

  /** `network create`. */
  async create(o: NetworkCreateOptions): Promise<{ Id: string; Warning: string }> {
    this.ensureDefaults();
    const driver = o.driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw errors.precondition(`only one instance of "${driver === 'null' ? 'none' : driver}" network is allowed`);
    if (driver !== 'bridge') throw errors.notFound(`plugin "${driver}" not found`, { hint: 'gantry has the bridge driver' });
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw errors.invalid(`invalid network name "${o.name}": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    if (this.store.byName(o.name)) throw errors.conflict(`network with name ${o.name} already exists`);
    const options = { ...(o.options ?? {}) };
    const id = newNetworkId();
    const bridge = options[BRIDGE_OPTION] || `gbr-${id.slice(0, 11)}`;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw errors.invalid(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 letters, digits, '_', '.', '-'`);
    const mtu = options[MTU_OPTION] ? Number(options[MTU_OPTION]) : undefined;
    if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) throw errors.invalid(`invalid MTU ${options[MTU_OPTION]}`);
    if (o.gateway && !o.subnet) throw errors.invalid('gateway specified without a subnet: use --subnet too');
    if (o.ipRange && !o.subnet) throw errors.invalid('ip-range specified without a subnet: use --subnet too');
    return withHostLock(async () => {
      await sweepOrphans(this.sweepScope());
      if (linkExists(bridge)) throw errors.conflict(`bridge name ${bridge} is already in use on this host`, { hint: `choose another -o ${BRIDGE_OPTION}=...` });
      const subnet = o.subnet ? requireSubnet(o.subnet) : pickSubnet(await this.takenSubnets());
      if (o.subnet) {
        const clash = this.store.list().find((n) => n.spec.subnet && overlaps(parseCidr(n.spec.subnet) as Cidr, subnet));
        if (clash) throw errors.conflict(`invalid pool request: Pool overlaps with other one on this address space`, { hint: `network ${clash.name} has ${clash.spec.subnet}` });
      }
      const gateway = o.gateway ? this.addressIn(subnet, o.gateway, 'gateway') : formatIPv4(subnet.base + 1);
      let ipRange = '';
      if (o.ipRange) {
        const r = parseCidr(o.ipRange);
        if (!r || !overlaps(r, subnet) || r.prefix < subnet.prefix) throw errors.invalid(`invalid ip-range ${o.ipRange}: it must be a block inside the subnet ${formatCidr(subnet)}`);
        ipRange = formatCidr(r);
      }
      const spec: NetworkSpec = {
        subnet: formatCidr(subnet),
        gateway,
        ipRange,
        bridge,
        internal: o.internal ?? false,
        attachable: o.attachable ?? false,
        isDefault: false,
        options,
        ipamOptions: o.ipamOptions ?? {},
        labels: o.labels ?? {},
        userSubnet: Boolean(o.subnet),
      };
      if (o.egress) spec.egress = o.egress;
      if (mtu) spec.mtu = mtu;
      const rec: NetworkRecord = { id, name: o.name, driver: 'bridge', created: new Date().toISOString(), spec };
      this.store.insert(rec);
      try {
        await this.realizeLocked(rec);
      } catch (err) {
        await this.unrealizeLocked(rec).catch(() => undefined);
        this.store.delete(id);
        throw err;
      }
      return { Id: id, Warning: '' };
    });
  }

  private addressIn(subnet: Cidr, ip: string, what: string): string {
    const n = parseIPv4(ip);
    if (n === undefined) throw errors.invalid(`invalid ${what} address ${ip}`);
    if (!contains(subnet, n)) throw errors.invalid(`no matching subnet for ${what} ${ip}`);
    return formatIPv4(n);
  }

  /** Subnets a new network must avoid: the host's routes and every network of this root. */
  private async takenSubnets(): Promise<Cidr[]> {
    const mine = this.store.list().flatMap((n) => (n.spec.subnet ? [parseCidr(n.spec.subnet) as Cidr] : []));
    // Docker's default bridge (172.17.0.0/16) even when docker is not running now.
    return [...(await hostRoutes()), ...mine, parseCidr('172.17.0.0/16') as Cidr];
  }

  /** This root and its networks, for sweepOrphans. */
  private sweepScope(): { root: string; networkIds: Set<string> } {
    return { root: this.deps.root, networkIds: new Set(this.store.list().map((n) => n.id)) };
  }

  /** Makes the bridge and rules exist (idempotent). Under the host lock. */
  private async realizeLocked(n: NetworkRecord): Promise<NetworkRecord> {
    if (n.driver !== 'bridge') return n;
    if (!n.spec.subnet) {
      // The default network gets its subnet on first use (so a root that never runs a
      // container reserves nothing on the host).
      await sweepOrphans(this.sweepScope());
      const subnet = pickSubnet(await this.takenSubnets());
      n = { ...n, spec: { ...n.spec, subnet: formatCidr(subnet), gateway: formatIPv4(subnet.base + 1) } };
      this.deps.db.prepare(`UPDATE networks SET spec = ? WHERE id = ?`).run(JSON.stringify(n.spec), n.id);
    }
    const prefix = n.spec.subnet.split('/')[1];
    await reclaimBridge(n.spec.bridge, n.id);
    register({ root: this.deps.root, networkId: n.id, bridge: n.spec.bridge });
    await ensureBridge(n.spec.bridge, `${n.spec.gateway}/${prefix}`, n.spec.mtu);
    await setupNetworkRules({ id: n.id, bridge: n.spec.bridge, subnet: n.spec.subnet, internal: n.spec.internal, egress: n.spec.egress });
    return n;
  }

  private async unrealizeLocked(n: NetworkRecord): Promise<void> {
    if (n.driver !== 'bridge') return;
    await removeNetworkRules(n.id);
    await removeBridge(n.spec.bridge);
    unregister(n.spec.bridge);
    await this.dns.update({ key: n.id, listen: n.spec.gateway, entries: [] });
    rmSync(join(this.deps.root, 'network', 'ipam', n.id), { recursive: true, force: true });
  }

  /** `network ls` / `inspect` of every network. */
  list(): NetworkInspect[] {
    this.ensureDefaults();
    return this.store.list().map((n) => networkView(n, this.store.endpointsOn(n.id)));
  }

  /** `network inspect`. */
  inspect(input: string): NetworkInspect {
    const n = this.resolve(input);
    return networkView(n, this.store.endpointsOn(n.id));
  }

  /** `network rm`: refuses while containers are attached (Docker's words). */
  async remove(input: string): Promise<void> {
    const n = this.resolve(input);
    if (['bridge', 'host', 'none'].includes(n.name) && (n.spec.isDefault || n.driver !== 'bridge')) {
      throw errors.precondition(`${n.name} is a pre-defined network and cannot be removed`);
    }
    await withHostLock(async () => {
      if (this.store.endpointsOn(n.id).some((e) => e.state !== '')) {
        throw errors.precondition(`error while removing network: network ${n.name} id ${n.id} has active endpoints`, {
          hint: 'stop or disconnect its containers first (gantry network inspect shows them)',
        });
      }
      await this.unrealizeLocked(n);
      this.store.delete(n.id);
    });
  }

  /** `network prune`: user-defined networks without active endpoints; returns their names. */
  async prune(keep: (n: NetworkInspect) => boolean = () => false): Promise<string[]> {
    const removed: string[] = [];
    await withHostLock(async () => {
      await sweepOrphans(this.sweepScope());
      for (const n of this.store.list()) {
        if (n.spec.isDefault || n.driver !== 'bridge') continue;
        // Docker's "unused": no container attached now (stopped ones lose the connection).
        if (this.store.endpointsOn(n.id).some((e) => e.state !== '')) continue;
        if (keep(networkView(n, []))) continue;
        await this.unrealizeLocked(n);
        this.store.delete(n.id);
        removed.push(n.name);
      }
    });
    return removed;
  }

  // ------------------------------------------------------------ containers' connections

  /**
   * Checks a container's network settings at create: the mode's network exists, aliases and
   * addresses are allowed on it. Returns the connections to record.
   */
  plan(mode: string, endpoints: Record<string, { aliases?: string[]; ipv4?: string }>): { networkId: string; aliases: string[]; ipv4: string }[] {
    const m = mode || 'default';
    if (m === 'none' || m === 'host' || m.startsWith('container:')) {
      if (Object.keys(endpoints).length > 0 && m !== 'none') throw errors.invalid(`conflicting options: network-scoped aliases and addresses need a bridge network, not ${m}`);
      return [];
    }
    const name = m === 'default' ? 'bridge' : m;
    const n = this.resolve(name);
    if (n.driver === 'host' || n.driver === 'null') return [];
    const ep = endpoints[name] ?? endpoints[m] ?? Object.values(endpoints)[0] ?? {};
    this.checkConnect(n, ep.aliases ?? [], ep.ipv4 ?? '');
    return [{ networkId: n.id, aliases: ep.aliases ?? [], ipv4: ep.ipv4 ?? '' }];
  }

  private checkConnect(n: NetworkRecord, aliases: string[], ipv4: string): void {
    if (aliases.length > 0 && n.spec.isDefault) throw errors.invalid('network-scoped alias is supported only for containers in user defined networks');
    if (ipv4) {
      if (n.spec.isDefault || !n.spec.userSubnet) throw errors.invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
      const ip = parseIPv4(ipv4);
      if (ip === undefined) throw errors.invalid(`invalid IPv4 address: ${ipv4}`);
      if (!contains(parseCidr(n.spec.subnet) as Cidr, ip)) throw errors.invalid(`no configured subnet or ip-range contain the IP address ${ipv4}`);
    }
  }

  /** Records planned connections (inside the container create's transaction). */
  record(containerId: string, plan: { networkId: string; aliases: string[]; ipv4: string }[]): void {
    for (const p of plan) this.store.connect(containerId, p.networkId, p.aliases, p.ipv4);
  }

  /**
   * `network connect`: records the connection; a running container (given its namespace)
   * is attached at once.
   */
  async connect(req: ConnectRequest, ctr: AttachRequest & { running: boolean; mode: string }): Promise<void> {
    const n = this.resolve(req.network);
    if (n.driver !== 'bridge') throw errors.precondition(`container cannot be disconnected from host network or connected to host network`);
    if (ctr.mode === 'host' || ctr.mode === 'none' || ctr.mode.startsWith('container:')) {
      throw errors.precondition(`container sharing network namespace with another container or host cannot be connected to any other network`);
    }
    this.checkConnect(n, req.aliases ?? [], req.ipv4 ?? '');
    if (this.store.endpoints(ctr.containerId).some((e) => e.networkId === n.id)) {
      throw errors.precondition(`endpoint with name ${ctr.name} already exists in network ${n.name}`);
    }
    writeTx(this.deps.db, () => this.store.connect(ctr.containerId, n.id, req.aliases ?? [], req.ipv4 ?? ''));
    if (!ctr.running) return;
    try {
      await withHostLock(async () => {
        const ep = this.store.endpoints(ctr.containerId).find((e) => e.networkId === n.id) as EndpointRecord;
        await this.attachEndpoint(n, ep, ctr, false);
        if (ctr.egress) await this.containerRules(ctr.containerId, ctr.egress);
      });
    } catch (err) {
      await this.detachEndpoints(ctr.containerId, ctr.netns, (e) => e.networkId === n.id);
      this.store.disconnect(ctr.containerId, n.id);
      throw err;
    }
  }

  /** `network disconnect`: detaches (when running) and forgets the connection. */
  async disconnect(network: string, ctr: { containerId: string; name: string; netns: string }, force = false): Promise<void> {
    const n = this.resolve(network);
    if (n.driver !== 'bridge') throw errors.precondition(`container cannot be disconnected from host network or connected to host network`);
    const ep = this.store.endpoints(ctr.containerId).find((e) => e.networkId === n.id);
    if (!ep) {
      if (force) return;
      throw errors.precondition(`container ${ctr.containerId} is not connected to network ${n.name}`);
    }
    await this.detachEndpoints(ctr.containerId, ctr.netns, (e) => e.networkId === n.id);
    this.store.disconnect(ctr.containerId, n.id);
  }

  /** The networks a container is connected to (names), in order. */
  connections(containerId: string): { ep: EndpointRecord; net: NetworkRecord }[] {
    return withNetworks(this.store.endpoints(containerId), (id) => this.store.get(id));
  }

  // ------------------------------------------------------------ attach / detach

  /** Attaches every connection of a starting container to its namespace. */
  async attach(req: AttachRequest): Promise<AttachResult> {
    if (this.store.endpoints(req.containerId).length === 0) return {};
    try {
      return await withHostLock(async () => {
        let result: AttachResult = {};
        const eps = this.store.endpoints(req.containerId);
        for (const [i, ep] of eps.entries()) {
          const net = this.store.get(ep.networkId);
          if (!net) continue;
          const attached = await this.attachEndpoint(net, ep, req, i === 0);
          if (i === 0) result = { ip: attached.ip.split('/')[0], nameservers: net.spec.isDefault ? undefined : [attached.gateway] };
        }
        if (req.egress) await this.containerRules(req.containerId, req.egress);
        return result;
      });
    } catch (err) {
      await this.detach(req.containerId, req.netns, Boolean(req.egress)).catch(() => undefined);
      throw err;
    }
  }

  private async containerRules(containerId: string, egress: EgressPolicy): Promise<void> {
    for (const { ep, net } of this.connections(containerId)) {
      if (ep.state !== 'attached') continue;
      // One chain per container: its rules allow each network's subnet through the first
      // network's chain; further networks add their jumps.
      await setupContainerRules({ id: containerId, bridge: net.spec.bridge, ip: ep.ip.split('/')[0] as string, subnet: net.spec.subnet, egress: { ...egress, allow: [...egress.allow, ...this.connections(containerId).map((c) => ({ cidr: c.net.spec.subnet }))] } });
    }
  }

  /** CNI ADD of one endpoint. Under the host lock. */
  private async attachEndpoint(net: NetworkRecord, ep: EndpointRecord, req: AttachRequest, primary: boolean): Promise<EndpointRecord> {
    if (!net.spec.subnet || !linkExists(net.spec.bridge)) net = await this.realizeLocked(net);
    const used = new Set(this.store.endpoints(req.containerId).filter((e) => e.state !== '').map((e) => e.ifName));
    let ifName = 'eth0';
    for (let i = 0; used.has(ifName); i++) ifName = `eth${i}`;
    const endpointId = randomBytes(32).toString('hex');
    const ports = primary && !net.spec.internal ? await allocatePorts(req.ports, `${req.name} (${endpointId})`) : [];
    const names = [req.name, ...ep.aliases, req.containerId.slice(0, 12)];
    const live = { ...DETACHED, state: 'attaching' as const, endpointId, ifName, ports, dnsNames: names, dnsUpstream: req.dns };
    this.store.setLive(req.containerId, net.id, live);
    const list = this.confList(net, ports.length > 0);
    const runtimeConfig: Record<string, unknown> = {};
    if (ports.length > 0) runtimeConfig.portMappings = ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIp }));
    if (ep.ipv4Config) runtimeConfig.ips = [`${ep.ipv4Config}/${net.spec.subnet.split('/')[1]}`];
    let result: CniResult;
    try {
      result = await cniAdd(list, { containerId: req.containerId, netns: req.netns, ifName, runtimeConfig });
    } catch (err) {
      if (err instanceof CniError && /not available|already reserved|already allocated/i.test(err.message) && ep.ipv4Config) {
        throw errors.conflict(`Address already in use`, { hint: `${ep.ipv4Config} is taken on network ${net.name}` });
      }
      if (err instanceof CniError && /no IP addresses available/i.test(err.message)) {
        throw errors.unavailable(`no available IPv4 addresses on this network's address pools: ${net.name} (${net.id})`);
      }
      throw errors.internal(`failed to set up network ${net.name} for container ${req.containerId.slice(0, 12)}: ${err instanceof CniError ? `${err.plugin}: ${err.message}` : (err as Error).message}`, { cause: err });
    }
    const ipEntry = result.ips?.[0];
    const iface = ipEntry?.interface !== undefined ? result.interfaces?.[ipEntry.interface] : result.interfaces?.find((i) => i.sandbox);
    const attached: EndpointRecord = { ...ep, ...live, state: 'attached', ip: ipEntry?.address ?? '', gateway: ipEntry?.gateway ?? net.spec.gateway, mac: iface?.mac ?? '', result: JSON.stringify(result) };
    this.store.setLive(req.containerId, net.id, attached);
    if (!net.spec.isDefault) await this.updateDns(net);
    return attached;
  }

  /** Detaches every endpoint of a container whose run ended (idempotent). */
  async detach(containerId: string, netns: string, hadEgress: boolean): Promise<void> {
    const live = this.store.endpoints(containerId).filter((e) => e.state !== '');
    if (live.length === 0 && !hadEgress) return;
    await this.detachEndpoints(containerId, netns, () => true);
    if (hadEgress) await withHostLock(() => removeContainerRules(containerId));
  }

  private async detachEndpoints(containerId: string, netns: string, which: (e: EndpointRecord) => boolean): Promise<void> {
    await withHostLock(async () => {
      for (const ep of this.store.endpoints(containerId).filter((e) => e.state !== '' && which(e))) {
        const net = this.store.get(ep.networkId);
        if (net) {
          let prev: CniResult | undefined;
          try {
            prev = ep.result ? (JSON.parse(ep.result) as CniResult) : undefined;
          } catch {
            prev = undefined;
          }
          const runtimeConfig: Record<string, unknown> = {};
          if (ep.ports.length > 0) runtimeConfig.portMappings = ep.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIp }));
          // NOTE: a failed DEL is not retried forever: what it left (a veth) goes with the
          // namespace, and host-local's reservation is released by the container ID next time.
          await cniDel(this.confList(net, ep.ports.length > 0), { containerId, netns, ifName: ep.ifName || 'eth0', runtimeConfig }, prev).catch(() => undefined);
        }
        this.store.setLive(containerId, ep.networkId, DETACHED);
        if (net && !net.spec.isDefault) await this.updateDns(net);
      }
    });
  }

  /** Rewrites a user-defined network's DNS file from its attached endpoints. */
  private async updateDns(net: NetworkRecord): Promise<void> {
    const entries = this.store
      .endpointsOn(net.id)
      .filter((e) => e.state === 'attached' && e.ip)
      .map((e) => ({ containerId: e.containerId, ipv4: e.ip.split('/')[0] as string, names: e.dnsNames, upstream: e.dnsUpstream }));
    await this.dns.update({ key: net.id, listen: net.spec.gateway, entries });
  }

  private confList(net: NetworkRecord, portmap: boolean): ConfList {
    return bridgeConfList(net, join(this.deps.root, 'network', 'ipam'), portmap);
  }

  /** The NetworkSettings of a container. */
  settings(containerId: string, exposed: string[]): ContainerNetworkView {
    return containerNetworkView(this.connections(containerId), exposed);
  }

  /** settings() of many containers, from two queries instead of some for each. */
  settingsOfMany(containers: { id: string; exposed: string[] }[]): ContainerNetworkView[] {
    const networks = new Map(this.store.list().map((n) => [n.id, n]));
    const endpoints = this.store.allEndpoints();
    return containers.map(({ id, exposed }) => containerNetworkView(withNetworks(endpoints.get(id) ?? [], (n) => networks.get(n)), exposed));
  }
}

/** Each endpoint with its network; endpoints whose network is gone are left out. */
function withNetworks(endpoints: EndpointRecord[], network: (id: string) => NetworkRecord | undefined): { ep: EndpointRecord; net: NetworkRecord }[] {
  return endpoints.flatMap((ep) => {
    const net = network(ep.networkId);
    return net ? [{ ep, net }] : [];
  });
}
