/**
 * A container's OCI bundle: what a run needs besides its root filesystem — the user resolved
 * from the image, the working directory, /etc/hostname, /etc/hosts and /etc/resolv.conf, the
 * network namespace, the mounts (volumes filled from the image on first use) and `config.json`
 * with Docker's defaults (runtime/spec.ts).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { errors, isErrno } from '../core/errors.js';
import { createNetns } from '../native/native.js';
import { hostDevices } from '../runtime/host-devices.js';
import { mkdirInRoot, resolveInRoot } from '../runtime/secure-path.js';
import type { SpecInput } from '../runtime/spec-input.js';
import { buildSpec, specToJson } from '../runtime/spec.js';
import { resolveUser } from '../runtime/users.js';
import type { VolumeService } from '../volumes/volume-service.js';
import type { PlannedMount } from './config.js';
import type { ContainerRecord } from './container-store.js';
import { hostnameFile, hostsFile, resolvConf } from './etc-files.js';
import type { NetworkAttachment } from './networking.js';
import type { ContainerPaths } from './paths.js';
import { removeNetns } from './run-files.js';

/** How the container's network namespace is set up. */
export interface BundleNetwork {
  /** Attaches a new namespace to its networks (CNI); its result goes into /etc/hosts and resolv.conf. */
  attach?: (netns: string) => Promise<NetworkAttachment>;
  /** `--network container:X`: X's namespace, and its hostname, hosts and resolv.conf files. */
  join?: { netns: string; hostname: string; hostsFile: string; resolvFile: string };
}

/** Where the tini binary that `--init` runs comes from (Debian's tini package). */
const INIT_BINARY = '/usr/bin/tini-static';
/** Where Docker puts it in the container. */
const INIT_PATH = '/sbin/docker-init';
/** Docker's default /dev/shm size. */
const DEFAULT_SHM = 64 * 1024 * 1024;

/**
 * Writes the bundle of `rec` in its directory, for the root filesystem mounted at `rootfs`.
 * A new network namespace is attached to its networks meanwhile: `network` settles once it
 * is, with the address and name servers in /etc/hosts and /etc/resolv.conf. The runtime may
 * create the container in the namespace before that (CNI and `runc create` take about as long
 * each, so one hides the other); the container must not start before.
 */
export async function writeBundle(
  rec: ContainerRecord,
  rootfs: string,
  p: ContainerPaths,
  volumes: VolumeService,
  net: BundleNetwork = {},
): Promise<{ network: Promise<void> }> {
  const { id } = rec;
  const { config, hostConfig: host } = rec.spec;
  const user = resolveUser(rootfs, config.User ?? '', host.GroupAdd ?? []);
  const cwd = config.WorkingDir || '/';
  mkdirInRoot(rootfs, cwd, 0o755);
  const hostNetwork = host.NetworkMode === 'host';
  const hostname = net.join?.hostname ?? (hostNetwork ? readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : (config.Hostname as string));
  let netns: string = 'host';
  if (net.join) {
    netns = net.join.netns;
  } else if (!hostNetwork) {
    netns = p.netns(id);
    removeNetns(netns);
    writeFileSync(netns, '');
    createNetns(netns);
  }
  writeFileSync(p.file(id, 'hostname'), hostnameFile(hostname));
  // The /etc files are bind-mounted by inode: rewritten in place once the namespace has its
  // address, the container sees the final text.
  const writeEtc = (attached: NetworkAttachment) => {
    writeFileSync(p.file(id, 'hosts'), hostsFile({ hostname, ip: attached.ip, extraHosts: host.ExtraHosts ?? [], hostNetwork }));
    const dns = attached.nameservers ?? host.Dns ?? [];
    writeFileSync(p.file(id, 'resolv.conf'), resolvConf({ dns, search: host.DnsSearch ?? [], options: host.DnsOptions ?? [], hostNetwork }));
  };
  if (net.join) {
    copyFileSync(net.join.hostsFile, p.file(id, 'hosts'));
    copyFileSync(net.join.resolvFile, p.file(id, 'resolv.conf'));
  } else {
    writeEtc({});
  }
  const etcRo = host.ReadonlyRootfs ?? false;
  const mounts: SpecInput['mounts'] = [
    { type: 'bind', source: p.file(id, 'hostname'), destination: '/etc/hostname', readOnly: etcRo },
    { type: 'bind', source: p.file(id, 'hosts'), destination: '/etc/hosts', readOnly: etcRo },
    { type: 'bind', source: p.file(id, 'resolv.conf'), destination: '/etc/resolv.conf', readOnly: etcRo },
  ];
  for (const m of rec.spec.mounts) mounts.push(resolveMount(rootfs, m, volumes));
  let args = [rec.spec.path, ...rec.spec.args];
  if (host.Init) {
    if (!existsSync(INIT_BINARY)) throw errors.precondition(`--init needs ${INIT_BINARY}`, { hint: 'apt-get install tini' });
    mounts.push({ type: 'bind', source: INIT_BINARY, destination: INIT_PATH, readOnly: true });
    args = [INIT_PATH, '--', ...args];
  }
  let env = [`HOSTNAME=${hostname}`, ...(config.Env ?? []).filter((e) => !e.startsWith('HOSTNAME='))];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  if (config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  env = env.filter(Boolean);
  const securityOpt = host.SecurityOpt ?? [];
  const input: SpecInput = {
    id,
    rootfs,
    readonlyRootfs: host.ReadonlyRootfs ?? false,
    args,
    env,
    cwd,
    user,
    terminal: config.Tty ?? false,
    hostname,
    mounts,
    netns,
    cgroupsPath: `/gantry/${id}`,
    resources: {
      memory: host.Memory ?? 0,
      memorySwap: host.MemorySwap ?? 0,
      memoryReservation: host.MemoryReservation ?? 0,
      cpuPeriod: host.NanoCpus ? 100_000 : (host.CpuPeriod ?? 0),
      cpuQuota: host.NanoCpus ? Math.round((host.NanoCpus * 100_000) / 1e9) : (host.CpuQuota ?? 0),
      cpuShares: host.CpuShares ?? 0,
      cpusetCpus: host.CpusetCpus ?? '',
      pidsLimit: host.PidsLimit && host.PidsLimit > 0 ? host.PidsLimit : 0,
      oomKillDisable: host.OomKillDisable ?? false,
    },
    ulimits: (host.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
    capAdd: host.CapAdd ?? [],
    capDrop: host.CapDrop ?? [],
    privileged: host.Privileged ?? false,
    noNewPrivileges: securityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o)),
    seccomp: !securityOpt.some((o) => /^seccomp[:=]unconfined$/.test(o)),
    shmSize: host.ShmSize || DEFAULT_SHM,
    sysctls: host.Sysctls ?? {},
    annotations: { 'org.opencontainers.image.ref.name': config.Image },
    hostDevices: host.Privileged ? await hostDevices() : undefined,
  };
  const spec = buildSpec(input);
  const [rows, cols] = host.ConsoleSize ?? [0, 0];
  if (input.terminal && rows > 0 && cols > 0) spec.process.consoleSize = { height: rows, width: cols };
  writeFileSync(p.file(id, 'config.json'), specToJson(spec));
  // Last, so that nothing here fails with the attachment under way.
  const attach = net.attach;
  if (!attach || netns === 'host' || net.join) return { network: Promise.resolve() };
  const network = attach(netns).then(writeEtc);
  network.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
  return { network };
}

/** A planned mount as the spec wants it; volumes are created and filled on first use. */
function resolveMount(rootfs: string, m: PlannedMount, volumes: VolumeService): SpecInput['mounts'][number] {
  if (m.Type === 'tmpfs') {
    return { type: 'tmpfs', source: 'tmpfs', destination: m.Destination, readOnly: !m.RW, options: m.tmpfsOptions ?? [] };
  }
  if (m.Type === 'bind') {
    if (!existsSync(m.Source)) {
      if (!m.createSource) throw errors.invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      mkdirSync(m.Source, { recursive: true, mode: 0o755 });
    }
    return { type: 'bind', source: m.Source, destination: m.Destination, readOnly: !m.RW, options: [m.Propagation || 'rprivate'] };
  }
  const name = m.Name as string;
  const source = volumes.mountpoint(name);
  if (m.copyUp) {
    const inImage = resolveInRoot(rootfs, m.Destination);
    try {
      if (statSync(inImage).isDirectory() && readdirSync(source).length === 0) volumes.populate(name, inImage);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return { type: 'bind', source, destination: m.Destination, readOnly: !m.RW, options: ['rprivate'] };
}
