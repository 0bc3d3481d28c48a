/**
 * What `ps` and `inspect` report, in the Engine API's shapes, built from a record.
 */
import type { ContainerInspect, ContainerSummary, MountPoint } from '../core/container-types.js';
import { humanDuration } from '../core/human-duration.js';
import type { ContainerRecord } from './container-store.js';
import type { ContainerNetworking } from './networking.js';
import type { ContainerPaths } from './paths.js';

/** Go's zero time, which Docker prints for "never". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The STATUS column of `ps`. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const since = (t: string) => humanDuration(now - Date.parse(t));
  switch (rec.status) {
    case 'running':
      return `Up ${since(rec.startedAt)}`;
    case 'paused':
      return `Up ${since(rec.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${rec.exitCode}) ${since(rec.finishedAt)} ago`;
    case 'exited':
      return rec.finishedAt ? `Exited (${rec.exitCode}) ${since(rec.finishedAt)} ago` : `Exited (${rec.exitCode})`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/** Mounts as the API reports them. */
function mountPoints(rec: ContainerRecord): MountPoint[] {
  return rec.spec.mounts.map((m) => {
    const out: MountPoint = {
      Type: m.Type,
      Source: m.Source,
      Destination: m.Destination,
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    };
    if (m.Type === 'volume') {
      out.Name = m.Name ?? '';
      out.Driver = 'local';
    }
    return out;
  });
}

/** Entrypoint and command as `ps` shows them. */
function commandLine(rec: ContainerRecord): string {
  return [rec.spec.path, ...rec.spec.args].join(' ');
}

/** One `ps` row. */
export function summaryView(
  rec: ContainerRecord,
  size?: { rw: number; rootFs: number },
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {},
): ContainerSummary {
  const portRows: ContainerSummary['Ports'] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    const [port, type] = key.split('/');
    if (!bindings) portRows.push({ PrivatePort: Number(port), Type: type ?? 'tcp' });
    for (const b of bindings ?? []) portRows.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type ?? 'tcp' });
  }
  const out: ContainerSummary = {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.spec.config.Image,
    ImageID: rec.imageId,
    Command: commandLine(rec),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    State: rec.status,
    Status: statusText(rec),
    Ports: portRows,
    Labels: rec.spec.config.Labels ?? {},
    HostConfig: { NetworkMode: rec.spec.hostConfig.NetworkMode || 'default' },
    Mounts: mountPoints(rec),
  };
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootFs;
  }
  return out;
}

/** RFC 3339 with nanoseconds, as Go prints times in inspect. */
function goTime(iso: string): string {
  if (!iso) return ZERO_TIME;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return `${m[1]}.${frac}Z`;
}

/** `inspect`. */
export function inspectView(
  rec: ContainerRecord,
  paths: ContainerPaths,
  size?: { rw: number; rootFs: number },
  network?: ReturnType<ContainerNetworking['settings']>,
): ContainerInspect {
  const host = rec.spec.hostConfig;
  const running = rec.status === 'running' || rec.status === 'paused';
  const out: ContainerInspect = {
    Id: rec.id,
    Created: goTime(rec.created),
    Path: rec.spec.path,
    Args: rec.spec.args,
    State: {
      Status: rec.status,
      Running: running,
      Paused: rec.status === 'paused',
      Restarting: rec.status === 'restarting',
      OOMKilled: rec.oomKilled,
      Dead: rec.status === 'dead',
      Pid: running ? rec.pid : 0,
      ExitCode: rec.exitCode,
      Error: rec.error,
      StartedAt: goTime(rec.startedAt),
      FinishedAt: goTime(rec.finishedAt),
    },
    Image: rec.imageId,
    ResolvConfPath: paths.file(rec.id, 'resolv.conf'),
    HostnamePath: paths.file(rec.id, 'hostname'),
    HostsPath: paths.file(rec.id, 'hosts'),
    LogPath: paths.file(rec.id, 'ctr.log'),
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: null,
      NetworkMode: 'default',
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      Privileged: false,
      ReadonlyRootfs: false,
      Memory: 0,
      MemorySwap: 0,
      NanoCpus: 0,
      PidsLimit: null,
      CapAdd: null,
      CapDrop: null,
      ShmSize: 64 * 1024 * 1024,
      Runtime: rec.spec.runtime,
      LogConfig: { Type: 'k8s-file', Config: {} },
      ...host,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        MergedDir: paths.rootfs(rec.id),
        UpperDir: paths.upper(rec.id),
        WorkDir: paths.work(rec.id),
      },
    },
    Mounts: mountPoints(rec),
    Config: rec.spec.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: running && host.NetworkMode !== 'host' ? paths.netns(rec.id) : '',
      Ports: {},
      IPAddress: '',
      Gateway: '',
      MacAddress: '',
      Networks: {},
      ...(network ?? {}),
    },
  };
  const mode = host.NetworkMode || 'default';
  if (mode === 'host' || mode === 'none' || !network) {
    out.NetworkSettings.Networks = { [mode === 'host' ? 'host' : 'none']: { NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' } };
  } else if (mode.startsWith('container:')) {
    out.NetworkSettings.Networks = {};
  }
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootFs;
  }
  return out;
}
