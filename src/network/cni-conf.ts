/**
 * The CNI network configuration list of a bridge network: the `bridge` plugin with
 * `host-local` IPAM (its reservations under the state root), then `portmap` when the
 * container publishes ports. NAT and filtering are not here but per network (firewall.ts).
 * https://www.cni.dev/plugins/current/main/bridge/ · /ipam/host-local/ · /meta/portmap/
 */
import { type Cidr, formatIPv4, lastAddress, parseCidr } from './cidr.js';
import { type ConfList, CNI_VERSION } from './cni.js';
import type { NetworkRecord } from './network-store.js';

/** The configuration list for one network. */
export function bridgeConfList(net: NetworkRecord, ipamDir: string, portmap: boolean): ConfList {
  const subnet = parseCidr(net.spec.subnet) as Cidr;
  const range: Record<string, string> = { subnet: net.spec.subnet, gateway: net.spec.gateway };
  if (net.spec.ipRange) {
    const r = parseCidr(net.spec.ipRange) as Cidr;
    // NOTE: the range's own first address is skipped too: 10.1.5.0 is a valid host in
    // 10.1.0.0/16, but surprising as the first container's address.
    const first = Math.max(r.base + 1, subnet.base + 1);
    const last = Math.min(lastAddress(r), lastAddress(subnet) - 1);
    range.rangeStart = formatIPv4(first);
    range.rangeEnd = formatIPv4(last);
  }
  const bridge: Record<string, unknown> = {
    type: 'bridge',
    bridge: net.spec.bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: true,
    capabilities: { ips: true },
    ipam: {
      type: 'host-local',
      dataDir: ipamDir,
      ranges: [[range]],
      // An internal network has no way out: no default route in the container.
      routes: net.spec.internal ? [] : [{ dst: '0.0.0.0/0' }],
    },
  };
  if (net.spec.mtu) bridge.mtu = net.spec.mtu;
  const plugins = [bridge as ConfList['plugins'][number]];
  if (portmap) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
  return { cniVersion: CNI_VERSION, name: net.id, plugins };
}
