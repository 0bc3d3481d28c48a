/**
 * Networks and the containers' endpoints on them, in the metadata database.
 *
 * A `networks` row is what `network create` asked for, resolved (subnet, gateway, bridge
 * device). A `container_networks` row says a container is connected to a network (its aliases
 * and requested address, set at create or by `network connect`) and, while the container runs,
 * what its endpoint got (address, MAC, the CNI result that DEL needs). `state` is
 * `attaching` from just before the CNI ADD until its result is recorded, so that a process
 * killed in between leaves a row that the next teardown undoes.
 */
import { randomBytes } from 'node:crypto';
import { errors } from '../core/errors.js';
import { type Db, statement, writeTx } from '../metadata/database.js';
import type { EgressPolicy } from './egress.js';

/** What a network is, beyond its name and driver. */
export interface NetworkSpec {
  /** IPv4 subnet (`10.89.0.0/16`); empty for host and none. */
  subnet: string;
  gateway: string;
  /** `--ip-range`: where addresses are allocated from, within the subnet. */
  ipRange: string;
  /** The Linux bridge device. */
  bridge: string;
  internal: boolean;
  attachable: boolean;
  /** True for the default `bridge` network: no name resolution, as Docker's. */
  isDefault: boolean;
  /** `-o` driver options and `--ipam-opt`, as given. */
  options: Record<string, string>;
  ipamOptions: Record<string, string>;
  labels: Record<string, string>;
  /** gantry's egress policy for every container on the network. */
  egress?: EgressPolicy;
  /** Whether the subnet was given by the user (`--ip` needs that, as in Docker). */
  userSubnet: boolean;
  /** The bridge's MTU, from `com.docker.network.driver.mtu`. */
  mtu?: number;
}

/** A network row. */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge' | 'host' | 'null';
  created: string;
  spec: NetworkSpec;
}

/** A published port as the endpoint got it (host port resolved). */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** A container's connection to a network. */
export interface EndpointRecord {
  containerId: string;
  networkId: string;
  idx: number;
  aliases: string[];
  ipv4Config: string;
  state: '' | 'attaching' | 'attached';
  endpointId: string;
  ifName: string;
  /** `10.89.0.2/16` while attached. */
  ip: string;
  gateway: string;
  mac: string;
  ports: PortBinding[];
  /** Names the network's DNS answers with this endpoint's address (name, aliases, short ID). */
  dnsNames: string[];
  /** The container's `--dns` servers: the network's DNS forwards other names there. */
  dnsUpstream: string[];
  /** The CNI result JSON of ADD. */
  result: string;
}

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  created: string;
  spec: string;
}

interface EndpointRow {
  container_id: string;
  network_id: string;
  idx: number;
  aliases: string;
  ipv4_config: string;
  state: string;
  endpoint_id: string;
  if_name: string;
  ip: string;
  gateway: string;
  mac: string;
  ports: string;
  dns_names: string;
  dns_upstream: string;
  result: string;
}

function networkFromRow(r: NetworkRow): NetworkRecord {
  return { id: r.id, name: r.name, driver: r.driver as NetworkRecord['driver'], created: r.created, spec: JSON.parse(r.spec) as NetworkSpec };
}

function endpointFromRow(r: EndpointRow): EndpointRecord {
  return {
    containerId: r.container_id,
    networkId: r.network_id,
    idx: r.idx,
    aliases: JSON.parse(r.aliases) as string[],
    ipv4Config: r.ipv4_config,
    state: r.state as EndpointRecord['state'],
    endpointId: r.endpoint_id,
    ifName: r.if_name,
    ip: r.ip,
    gateway: r.gateway,
    mac: r.mac,
    ports: JSON.parse(r.ports) as PortBinding[],
    dnsNames: JSON.parse(r.dns_names) as string[],
    dnsUpstream: JSON.parse(r.dns_upstream) as string[],
    result: r.result,
  };
}

/** A new random 64-hex-digit ID. */
export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}

/** The rows of networks and endpoints. */
export class NetworkStore {
  constructor(private readonly db: Db) {}

  list(): NetworkRecord[] {
    return (statement(this.db, `SELECT * FROM networks ORDER BY created, name`).all() as NetworkRow[]).map(networkFromRow);
  }

  get(id: string): NetworkRecord | undefined {
    const r = statement(this.db, `SELECT * FROM networks WHERE id = ?`).get(id) as NetworkRow | undefined;
    return r && networkFromRow(r);
  }

  byName(name: string): NetworkRecord | undefined {
    const r = statement(this.db, `SELECT * FROM networks WHERE name = ?`).get(name) as NetworkRow | undefined;
    return r && networkFromRow(r);
  }

  /**
   * Docker's lookup order: full ID, exact name, then a unique ID prefix. Undefined when none;
   * throws on an ambiguous prefix.
   */
  tryResolve(input: string): NetworkRecord | undefined {
    if (input === '') return undefined;
    const exact = this.get(input) ?? this.byName(input);
    if (exact) return exact;
    if (!/^[0-9a-f]+$/.test(input)) return undefined;
    const rows = statement(this.db, `SELECT * FROM networks WHERE id LIKE ? || '%' LIMIT 2`).all(input) as NetworkRow[];
    if (rows.length > 1) throw errors.conflict(`network ${input} is ambiguous (${rows.length} matches found based on ID prefix)`);
    return rows[0] && networkFromRow(rows[0]);
  }

  /** Inserts a network; Docker's conflict message when the name is taken. */
  insert(rec: NetworkRecord): void {
    writeTx(this.db, () => {
      if (this.byName(rec.name)) throw errors.conflict(`network with name ${rec.name} already exists`);
      this.db
        .prepare(`INSERT INTO networks (id, name, driver, created, spec) VALUES (?, ?, ?, ?, ?)`)
        .run(rec.id, rec.name, rec.driver, rec.created, JSON.stringify(rec.spec));
    });
  }

  delete(id: string): void {
    statement(this.db, `DELETE FROM networks WHERE id = ?`).run(id);
  }

  // ------------------------------------------------------------ endpoints

  endpoints(containerId: string): EndpointRecord[] {
    return (statement(this.db, `SELECT * FROM container_networks WHERE container_id = ? ORDER BY idx`).all(containerId) as EndpointRow[]).map(endpointFromRow);
  }

  /** Every container's endpoints, in order: what listing many containers reads in one query. */
  allEndpoints(): Map<string, EndpointRecord[]> {
    const byContainer = new Map<string, EndpointRecord[]>();
    for (const row of statement(this.db, `SELECT * FROM container_networks ORDER BY container_id, idx`).all() as EndpointRow[]) {
      const ep = endpointFromRow(row);
      const list = byContainer.get(ep.containerId);
      if (list) list.push(ep);
      else byContainer.set(ep.containerId, [ep]);
    }
    return byContainer;
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return (statement(this.db, `SELECT * FROM container_networks WHERE network_id = ? ORDER BY idx`).all(networkId) as EndpointRow[]).map(endpointFromRow);
  }

  /** Every endpoint that is attached or being attached. */
  liveEndpoints(): EndpointRecord[] {
    return (statement(this.db, `SELECT * FROM container_networks WHERE state != ''`).all() as EndpointRow[]).map(endpointFromRow);
  }

  /** Connects a container (its row must exist) to a network; Docker's conflict when already. */
  connect(containerId: string, networkId: string, aliases: string[], ipv4Config: string): void {
    const exists = statement(this.db, `SELECT 1 FROM container_networks WHERE container_id = ? AND network_id = ?`).get(containerId, networkId);
    if (exists) throw errors.conflict(`endpoint with name already exists in network`);
    const next = (statement(this.db, `SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM container_networks WHERE container_id = ?`).get(containerId) as { n: number }).n;
    this.db
      .prepare(`INSERT INTO container_networks (container_id, network_id, idx, aliases, ipv4_config) VALUES (?, ?, ?, ?, ?)`)
      .run(containerId, networkId, next, JSON.stringify(aliases), ipv4Config);
  }

  disconnect(containerId: string, networkId: string): void {
    statement(this.db, `DELETE FROM container_networks WHERE container_id = ? AND network_id = ?`).run(containerId, networkId);
  }

  /** Records the live part of an endpoint (or clears it with `state` ''). */
  setLive(
    containerId: string,
    networkId: string,
    live: Pick<EndpointRecord, 'state' | 'endpointId' | 'ifName' | 'ip' | 'gateway' | 'mac' | 'ports' | 'dnsNames' | 'dnsUpstream' | 'result'>,
  ): void {
    this.db
      .prepare(
        `UPDATE container_networks SET state = ?, endpoint_id = ?, if_name = ?, ip = ?, gateway = ?, mac = ?, ports = ?, dns_names = ?, dns_upstream = ?, result = ?
         WHERE container_id = ? AND network_id = ?`,
      )
      .run(live.state, live.endpointId, live.ifName, live.ip, live.gateway, live.mac, JSON.stringify(live.ports), JSON.stringify(live.dnsNames), JSON.stringify(live.dnsUpstream), live.result, containerId, networkId);
  }

}

/** An endpoint with nothing live. */
export const DETACHED: Pick<EndpointRecord, 'state' | 'endpointId' | 'ifName' | 'ip' | 'gateway' | 'mac' | 'ports' | 'dnsNames' | 'dnsUpstream' | 'result'> = {
  state: '',
  endpointId: '',
  ifName: '',
  ip: '',
  gateway: '',
  mac: '',
  ports: [],
  dnsNames: [],
  dnsUpstream: [],
  result: '',
};
