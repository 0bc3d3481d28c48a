/**
 * What the container service needs from networking, which the engine provides (the network
 * service sits beside the container service, not under it). Plain data in, plain data out.
 */
import type { ContainerCreateRequest, ContainerNetworkView } from '../core/container-types.js';
import type { ContainerRecord } from './container-store.js';

/** A connection decided at create: the network and the endpoint's settings. */
export interface NetworkPlanEntry {
  networkId: string;
  aliases: string[];
  ipv4: string;
}

/** What /etc/hosts and /etc/resolv.conf need once the namespace is attached. */
export interface NetworkAttachment {
  /** The container's address on its primary network. */
  ip?: string;
  /** Name servers replacing the host's (a user-defined network's DNS). */
  nameservers?: string[];
}

/** The networking hooks of the container lifecycle. */
export interface ContainerNetworking {
  /** At create: checks the network mode and endpoint settings; Docker's errors. */
  plan(req: ContainerCreateRequest): NetworkPlanEntry[];
  /** At create, inside the record's transaction. */
  record(id: string, plan: NetworkPlanEntry[]): void;
  /** At start, once the namespace exists at `netns`: CNI ADD, ports, DNS, egress rules. */
  attach(rec: ContainerRecord, netns: string): Promise<NetworkAttachment>;
  /** At the end of a run (and after a crash): undoes `attach`; idempotent. */
  detach(rec: ContainerRecord, netns: string): Promise<void>;
  /** For inspect and ps: `NetworkSettings` (without the sandbox fields). */
  settings(rec: ContainerRecord): ContainerNetworkView;
  /** settings() of many containers at once (`ps`), in their order. */
  settingsOfMany(recs: ContainerRecord[]): ContainerNetworkView[];
}
