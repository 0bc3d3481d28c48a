/**
 * What `network inspect`/`ls` and a container's `NetworkSettings` report, in the Docker
 * Engine API's shapes, built from the network and endpoint rows.
 */
import type { ContainerNetworkView, EndpointSettings } from '../core/container-types.js';
import type { EgressPolicy } from './egress.js';
import type { EndpointRecord, NetworkRecord, PortBinding } from './network-store.js';

/** `GET /networks/{id}` (plus gantry's `Egress`). */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway?: string; IPRange?: string }[] | null };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** gantry's egress policy of the network, when it has one. */
  Egress?: EgressPolicy;
}

/** RFC 3339 with nanoseconds, as Go prints times. */
function goTime(iso: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : iso;
}

/** `network inspect`. */
export function networkView(n: NetworkRecord, endpoints: EndpointRecord[]): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {};
  for (const e of endpoints) {
    if (e.state !== 'attached') continue;
    containers[e.containerId] = { Name: e.dnsNames[0] ?? '', EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: e.ip, IPv6Address: '' };
  }
  const config: { Subnet: string; Gateway?: string; IPRange?: string }[] = [];
  if (n.spec.subnet) {
    const c: { Subnet: string; Gateway?: string; IPRange?: string } = { Subnet: n.spec.subnet, Gateway: n.spec.gateway };
    if (n.spec.ipRange) c.IPRange = n.spec.ipRange;
    config.push(c);
  }
  const out: NetworkInspect = {
    Name: n.name,
    Id: n.id,
    Created: goTime(n.created),
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: n.driver === 'bridge' ? n.spec.ipamOptions : null, Config: config },
    Internal: n.spec.internal,
    Attachable: n.spec.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.spec.options,
    Labels: n.spec.labels,
  };
  if (n.spec.egress) out.Egress = n.spec.egress;
  return out;
}

/** `NetworkSettings.Ports`: every exposed port, with its host bindings or null. */
export function portsView(exposed: string[], bindings: PortBinding[]): ContainerNetworkView['Ports'] {
  const out: ContainerNetworkView['Ports'] = {};
  for (const p of exposed) out[p] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) });
  }
  return out;
}

/** A container's `NetworkSettings` (the top-level address fields are the default bridge's, as in Docker). */
export function containerNetworkView(
  endpoints: { ep: EndpointRecord; net: NetworkRecord }[],
  exposed: string[],
): ContainerNetworkView {
  const networks: Record<string, EndpointSettings> = {};
  let top = { ip: '', prefix: 0, gateway: '', mac: '', bridge: '' };
  let ports: PortBinding[] = [];
  for (const { ep, net } of endpoints) {
    const [ip, prefix] = ep.ip ? ep.ip.split('/') : ['', '0'];
    const isDefault = net.spec.isDefault;
    networks[net.name] = {
      IPAMConfig: ep.ipv4Config ? { IPv4Address: ep.ipv4Config } : null,
      Links: null,
      Aliases: ep.aliases.length > 0 ? ep.aliases : null,
      MacAddress: ep.mac,
      NetworkID: net.id,
      EndpointID: ep.endpointId,
      Gateway: ep.gateway,
      IPAddress: ip ?? '',
      IPPrefixLen: Number(prefix ?? 0),
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: !isDefault && ep.state === 'attached' ? ep.dnsNames : null,
    };
    if (isDefault && ep.state === 'attached') top = { ip: ip ?? '', prefix: Number(prefix ?? 0), gateway: ep.gateway, mac: ep.mac, bridge: '' };
    if (ep.ports.length > 0) ports = ep.ports;
  }
  return {
    Bridge: top.bridge,
    Ports: portsView(exposed, ports),
    IPAddress: top.ip,
    IPPrefixLen: top.prefix,
    Gateway: top.gateway,
    MacAddress: top.mac,
    Networks: networks,
  };
}
