/**
 * The flags `gantry create` and `gantry run` share, and their translation into the engine's
 * create request (`POST /containers/create`'s body).
 *
 * The flags, their names, short forms and help texts are docker/cli's
 * (cli/command/container/opts.go `addFlags`); the translation is its `parse()`. Because gantry
 * has no daemon between the CLI and the engine, the checks Docker's daemon makes on the same
 * body (moby daemon/container.go `verifyContainerSettings`, daemon_unix.go, volume/mounts) are
 * made here too, with the daemon's wording. Messages follow Docker 29: a flag value Docker's
 * flag parser rejects reads `invalid argument "VALUE" for "-m, --memory" flag: ...`.
 *
 * The per-flag parsers and checks are in run-flags-values.ts (values, env/label files, restart,
 * logging, security options, daemon-side checks), run-flags-mounts.ts (-v, --mount, --tmpfs) and
 * run-flags-ports.ts (-p, --expose); the Go parsing functions they share in run-flags-go.ts.
 */
import { type Command, Option } from 'commander';
import { isIP } from 'node:net';
import type { ContainerCreateConfig, ContainerCreateRequest, EndpointConfig, HostConfig, Ulimit } from '../../core/container-types.js';
import { collect } from '../options.js';
import { cut, goQuote, invalid, parseGoBool } from './run-flags-go.js';
import { parseMountFlag, parseVolumeFlags, validateBind, validateMount, validateMountTarget } from './run-flags-mounts.js';
import { exposePorts, parsePublish } from './run-flags-ports.js';
import {
  bytesFlag, intFlag, parseCpus, parseLoggingOpts, parseNetworkFlag, parseRestartPolicy, parseSecurityOpts, parseUlimit,
  readKeyValueFiles, validateAttach, validateCapabilities, validateCpuset, validateDnsSearch, validateDnsServer, validateEnv,
  validateExtraHost, validateLabel, validatePull, validateResources, validateRestartPolicy, validateSignal, validateSysctl,
  validateWorkingDir,
} from './run-flags-values.js';

/** The options object commander produces for {@link addCreateFlags} and {@link addRunOnlyFlags}. */
export interface CreateFlagValues {
  attach?: string[];
  addHost?: string[];
  capAdd?: string[];
  capDrop?: string[];
  cidfile?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShares?: string;
  cpus?: string;
  cpusetCpus?: string;
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  /** Present (possibly "") when `--entrypoint` was given. */
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  expose?: string[];
  groupAdd?: string[];
  hostname?: string;
  /** Undefined when `--init` was not given (the engine's default applies). */
  init?: boolean;
  interactive?: boolean;
  label?: string[];
  labelFile?: string[];
  logDriver?: string;
  logOpt?: string[];
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  mount?: string[];
  name?: string;
  /** `--network` and its hidden alias `--net`, in the order given. */
  network?: string[];
  /** `--network-alias` (also `--net-alias`). */
  networkAlias?: string[];
  /** `--ip`: the container's IPv4 address on its network. */
  ip?: string;
  /** `-P`. */
  publishAll?: boolean;
  /** gantry: `--egress allow|deny` and its `--egress-allow` entries. */
  egress?: string;
  egressAllow?: string[];
  oomKillDisable?: boolean;
  pidsLimit?: string;
  privileged?: boolean;
  publish?: string[];
  /** missing (default), always or never. */
  pull?: string;
  readOnly?: boolean;
  /** Default "no". */
  restart?: string;
  rm?: boolean;
  runtime?: string;
  securityOpt?: string[];
  shmSize?: string;
  stopSignal?: string;
  stopTimeout?: string;
  sysctl?: string[];
  tty?: boolean;
  tmpfs?: string[];
  user?: string;
  ulimit?: string[];
  volume?: string[];
  workdir?: string;
  platform?: string;
  quiet?: boolean;
  /** run only: `-d`. */
  detach?: boolean;
  /** run only: `--sig-proxy` (default true). */
  sigProxy?: boolean;
  /** run only: `--detach-keys`. */
  detachKeys?: string;
}

/**
 * Adds Docker's create/run flags to `cmd`. Also makes `cmd` stop reading flags at the image
 * (`gantry run busybox ls -l` passes `-l` to ls, like Docker's SetInterspersed(false)), frees
 * `-h` for `--hostname` (help is `--help` only, as in Docker), and accepts `--rm=false`-style
 * values for boolean flags.
 */
export function addCreateFlags(cmd: Command): Command {
  const list = (flags: string, description: string, type = 'list') =>
    cmd.option(`${flags} <${type}>`, description, collect);
  cmd.helpOption('--help', 'Print usage');
  cmd.passThroughOptions();
  list('-a, --attach', 'Attach to STDIN, STDOUT or STDERR');
  list('--add-host', 'Add a custom host-to-IP mapping (host:ip)');
  list('--cap-add', 'Add Linux capabilities');
  list('--cap-drop', 'Drop Linux capabilities');
  cmd.option('--cidfile <string>', 'Write the container ID to the file');
  cmd.option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period');
  cmd.option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota');
  cmd.option('-c, --cpu-shares <int>', 'CPU shares (relative weight)');
  cmd.option('--cpus <decimal>', 'Number of CPUs');
  cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
  list('--dns', 'Set custom DNS servers');
  list('--dns-option', 'Set DNS options');
  list('--dns-search', 'Set custom DNS search domains');
  cmd.option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image');
  list('-e, --env', 'Set environment variables');
  list('--env-file', 'Read in a file of environment variables');
  list('--expose', 'Expose a port or a range of ports');
  list('--group-add', 'Add additional groups to join');
  cmd.option('-h, --hostname <string>', 'Container host name');
  addBool(cmd, '--init', 'Run an init inside the container that forwards signals and reaps processes');
  addBool(cmd, '-i, --interactive', 'Keep STDIN open even if not attached');
  list('-l, --label', 'Set meta data on a container');
  list('--label-file', 'Read in a line delimited file of labels');
  cmd.option('--log-driver <string>', 'Logging driver for the container');
  list('--log-opt', 'Log driver options');
  cmd.option('-m, --memory <bytes>', 'Memory limit');
  cmd.option('--memory-reservation <bytes>', 'Memory soft limit');
  cmd.option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  list('--mount', 'Attach a filesystem mount to the container', 'mount');
  cmd.option('--name <string>', 'Assign a name to the container');
  list('--network', 'Connect a container to a network', 'network');
  // Docker keeps --net as a hidden synonym; both feed the same list, in order.
  cmd.addOption(new Option('--net <network>').hideHelp());
  cmd.on('option:net', (value: string) => {
    cmd.setOptionValueWithSource('network', collect(value, cmd.getOptionValue('network') as string[] | undefined), 'cli');
  });
  list('--network-alias', 'Add network-scoped alias for the container');
  cmd.addOption(new Option('--net-alias <list>').hideHelp());
  cmd.on('option:net-alias', (value: string) => {
    cmd.setOptionValueWithSource('networkAlias', collect(value, cmd.getOptionValue('networkAlias') as string[] | undefined), 'cli');
  });
  cmd.option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)');
  cmd.option('--egress <string>', "gantry: outbound traffic: allow (default) or deny all but --egress-allow");
  list('--egress-allow', 'gantry: a destination allowed under --egress deny: CIDR[:port[/proto]]');
  addBool(cmd, '--oom-kill-disable', 'Disable OOM Killer');
  cmd.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
  cmd.option('--platform <string>', 'Set platform if server is multi-platform capable');
  addBool(cmd, '--privileged', 'Give extended privileges to this container');
  list('-p, --publish', "Publish a container's port(s) to the host");
  addBool(cmd, '-P, --publish-all', 'Publish all exposed ports to random ports');
  const verb = cmd.name() === 'create' ? 'creating' : 'running';
  cmd.option('--pull <string>', `Pull image before ${verb} ("always", "missing", "never")`, 'missing');
  addBool(cmd, '-q, --quiet', 'Suppress the pull output');
  addBool(cmd, '--read-only', "Mount the container's root filesystem as read only");
  cmd.option('--restart <string>', 'Restart policy to apply when a container exits', 'no');
  addBool(cmd, '--rm', 'Automatically remove the container and its associated anonymous volumes when it exits');
  cmd.option('--runtime <string>', 'Runtime to use for this container');
  list('--security-opt', 'Security Options');
  cmd.option('--shm-size <bytes>', 'Size of /dev/shm');
  cmd.option('--stop-signal <string>', 'Signal to stop the container');
  cmd.option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container');
  list('--sysctl', 'Sysctl options', 'map');
  list('--tmpfs', 'Mount a tmpfs directory');
  addBool(cmd, '-t, --tty', 'Allocate a pseudo-TTY');
  list('--ulimit', 'Ulimit options', 'ulimit');
  cmd.option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])');
  list('-v, --volume', 'Bind mount a volume');
  cmd.option('-w, --workdir <string>', 'Working directory inside the container');
  acceptBoolValues(cmd);
  return cmd;
}

/** Adds the flags only `run` has: -d/--detach, --sig-proxy (default true), --detach-keys. */
export function addRunOnlyFlags(cmd: Command): Command {
  addBool(cmd, '-d, --detach', 'Run container in background and print container ID');
  addBool(cmd, '--sig-proxy', 'Proxy received signals to the process', true);
  cmd.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
  return cmd;
}

/** A boolean flag plus a hidden `--no-x`, which `--x=false` is rewritten to (see acceptBoolValues). */
function addBool(cmd: Command, flags: string, description: string, defaultValue?: boolean): void {
  const option = new Option(flags, description);
  if (defaultValue !== undefined) option.default(defaultValue);
  cmd.addOption(option);
  cmd.addOption(new Option(`--no-${option.long?.slice(2) ?? ''}`).hideHelp());
}

/**
 * Docker's boolean flags take `--rm=false`, `--tty=true`, `-i=false`; commander's do not, so
 * the arguments before the image are rewritten (`--rm=false` → `--no-rm`) before commander
 * reads them. Docker's `-e=X` (value after `=` on a short flag) is rewritten to `-e X` too.
 */
function acceptBoolValues(cmd: Command): void {
  const parse = cmd.parseOptions.bind(cmd);
  // NOTE: parseOptions is commander's documented per-command parsing step; wrapping it on this
  // instance is the one place where argv can be adjusted before the option listeners run.
  cmd.parseOptions = (argv: string[]) => parse(rewriteFlagValues(cmd, argv));
}

function rewriteFlagValues(cmd: Command, argv: string[]): string[] {
  const find = (flag: string) => cmd.options.find((o) => o.short === flag || o.long === flag);
  const takesValue = (o: Option) => o.required || o.optional;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) {
      out.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') || eq === 2) {
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      const option = find(name);
      if (option && eq > 0) {
        const value = arg.slice(eq + 1);
        if (takesValue(option)) out.push(name, value);
        else if (parseGoBool(value, flagName(option))) out.push(name);
        else out.push(`--no-${option.long?.slice(2) ?? ''}`);
        continue;
      }
      out.push(arg);
      if (option && takesValue(option) && i + 1 < argv.length) out.push(argv[++i] as string);
      continue;
    }
    // A group of short flags (`-it`, `-p80:80`): the first that takes a value ends it.
    out.push(arg);
    for (let j = 1; j < arg.length; j++) {
      const option = find(`-${arg[j]}`);
      if (!option) break;
      if (takesValue(option)) {
        if (j === arg.length - 1 && i + 1 < argv.length) out.push(argv[++i] as string);
        break;
      }
    }
  }
  return out;
}

/** How pflag names a flag in its errors: `-m, --memory` or `--cpus`. */
function flagName(option: Option): string {
  return option.short ? `${option.short}, ${option.long ?? ''}` : (option.long ?? '');
}

// ---------------------------------------------------------------------------------------------
// The translation.

/**
 * Translates the flags of `gantry create`/`run IMAGE [COMMAND] [ARG...]` into the create
 * request, validating them as Docker's CLI and daemon do. `env` is the environment `-e KEY` and
 * env-file `KEY` lines take their values from. Reads the `--env-file`/`--label-file` files.
 * Throws INVALID_ARGUMENT errors worded as Docker's, marked as usage errors (exit code 125).
 */
export function toCreateRequest(
  image: string,
  args: string[],
  opts: CreateFlagValues,
  env: NodeJS.ProcessEnv = process.env,
): ContainerCreateRequest {
  const lookup = (key: string): string | undefined => env[key];

  // Flag values Docker's flag parser validates as it reads them.
  const attach = (opts.attach ?? []).map(validateAttach);
  const envFlags = (opts.env ?? []).flatMap((e) => validateEnv(e, lookup));
  const labelFlags = (opts.label ?? []).map(validateLabel);
  const extraHosts = (opts.addHost ?? []).map(validateExtraHost);
  const dns = (opts.dns ?? []).map(validateDnsServer);
  const dnsSearch = (opts.dnsSearch ?? []).map(validateDnsSearch);
  const sysctls: Record<string, string> = {};
  for (const s of opts.sysctl ?? []) {
    const [k, v] = validateSysctl(s);
    sysctls[k] = v;
  }
  const ulimits = new Map<string, Ulimit>();
  for (const u of opts.ulimit ?? []) {
    const limit = parseUlimit(u);
    ulimits.set(limit.Name, limit);
  }
  const mounts = (opts.mount ?? []).map(parseMountFlag);
  const memory = bytesFlag('-m, --memory', opts.memory);
  const memoryReservation = bytesFlag('--memory-reservation', opts.memoryReservation);
  const memorySwap = opts.memorySwap === '-1' ? -1 : bytesFlag('--memory-swap', opts.memorySwap);
  const shmSize = bytesFlag('--shm-size', opts.shmSize);
  const nanoCpus = opts.cpus === undefined ? 0 : parseCpus(opts.cpus);
  const cpuShares = intFlag('-c, --cpu-shares', opts.cpuShares) ?? 0;
  const cpuPeriod = intFlag('--cpu-period', opts.cpuPeriod) ?? 0;
  const cpuQuota = intFlag('--cpu-quota', opts.cpuQuota) ?? 0;
  const pidsLimit = intFlag('--pids-limit', opts.pidsLimit);
  const stopTimeout = intFlag('--stop-timeout', opts.stopTimeout);
  const networks = (opts.network ?? []).map(parseNetworkFlag);

  // docker/cli parse().
  validatePull(opts.pull);
  const { binds, volumes } = parseVolumeFlags(opts.volume ?? []);
  const tmpfs: Record<string, string> = {};
  for (const t of opts.tmpfs ?? []) {
    const [dest, options] = cut(t, ':');
    tmpfs[dest] = options;
  }
  const entrypoint = opts.entrypoint === undefined ? null : [opts.entrypoint];
  const { exposedPorts, portBindings } = parsePublish(opts.publish ?? []);
  for (const e of opts.expose ?? []) exposePorts(e, exposedPorts);
  const envVars = [...readKeyValueFiles('--env-file', opts.envFile ?? [], lookup), ...envFlags];
  const labels: Record<string, string> = {};
  for (const l of [...readKeyValueFiles('--label-file', opts.labelFile ?? []), ...labelFlags]) {
    const [k, v] = cut(l, '=');
    labels[k] = v;
  }
  const restartPolicy = parseRestartPolicy(opts.restart ?? 'no');
  const logOpts = parseLoggingOpts(opts.logDriver ?? '', opts.logOpt ?? []);
  const securityOpts = parseSecurityOpts(opts.securityOpt ?? []);
  if (opts.rm && restartPolicy.Name !== 'no' && restartPolicy.Name !== '') {
    throw invalid('conflicting options: cannot specify both --restart and --rm');
  }
  if (networks.length > 1) {
    throw invalid(`connecting to more than one network at create is not supported: ${networks.map((n) => n.name).join(', ')}`, {
      hint: 'create with one --network, then use "gantry network connect"',
    });
  }
  const network = networks[0];
  const aliases = [...(network?.aliases ?? []), ...(opts.networkAlias ?? [])];
  const ipv4 = opts.ip ?? network?.ip ?? '';
  if (ipv4 && isIP(ipv4) !== 4) throw invalid(`invalid argument "${ipv4}" for "--ip" flag: invalid string being converted to IP address: ${ipv4}`);
  const egress = opts.egress !== undefined || (opts.egressAllow ?? []).length > 0 ? { Mode: (opts.egress ?? 'deny') as 'allow' | 'deny', Allow: [...(opts.egressAllow ?? [])] } : undefined;
  if (egress && egress.Mode !== 'allow' && egress.Mode !== 'deny') throw invalid(`invalid argument "${opts.egress}" for "--egress" flag: want allow or deny`);
  if (opts.detach && attach.length > 0) throw invalid('conflicting options: cannot specify both --attach and --detach');
  if (opts.detachKeys) parseDetachKeys(opts.detachKeys);

  // What Docker's daemon checks on the same body.
  const name = opts.name || undefined;
  if (name !== undefined && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const workingDir = opts.workdir ? validateWorkingDir(opts.workdir) : '';
  if (opts.stopSignal) validateSignal(opts.stopSignal);
  for (const m of mounts) validateMount(m);
  for (const port of Object.keys(portBindings)) {
    if (port.startsWith('0/')) throw invalid(`invalid port specification: ${goQuote(port)}`);
  }
  validateRestartPolicy(restartPolicy);
  validateCapabilities('CapAdd', opts.capAdd ?? []);
  validateCapabilities('CapDrop', opts.capDrop ?? []);
  if (opts.hostname && Buffer.byteLength(opts.hostname) > 64) {
    throw invalid(`hostname ${goQuote(opts.hostname)} is too long (maximum 64 bytes)`);
  }
  validateResources({ memory, memorySwap, memoryReservation, nanoCpus, cpuPeriod, cpuQuota });
  if (opts.cpusetCpus) validateCpuset(opts.cpusetCpus);
  for (const dest of Object.keys(tmpfs)) validateMountTarget(dest);
  for (const b of binds) validateBind(b);

  const attachStdin = Boolean(opts.interactive) || attach.includes('stdin');
  const attachOut = attach.length === 0 || attach.includes('stdout');
  const attachErr = attach.length === 0 || attach.includes('stderr');
  const detached = Boolean(opts.detach);
  const config: ContainerCreateConfig = {
    Hostname: opts.hostname ?? '',
    User: opts.user ?? '',
    AttachStdin: detached ? false : attachStdin,
    AttachStdout: detached ? false : attachOut,
    AttachStderr: detached ? false : attachErr,
    Tty: Boolean(opts.tty),
    OpenStdin: Boolean(opts.interactive),
    // When stdin is attached, close it when the client disconnects.
    StdinOnce: !detached && Boolean(opts.interactive) && attachStdin,
    Env: envVars,
    Cmd: args.length > 0 ? [...args] : null,
    Image: image,
    WorkingDir: workingDir,
    Entrypoint: entrypoint,
    Labels: labels,
  };
  if (Object.keys(exposedPorts).length > 0) config.ExposedPorts = exposedPorts;
  if (Object.keys(volumes).length > 0) config.Volumes = volumes;
  if (opts.stopSignal) config.StopSignal = opts.stopSignal;
  if (stopTimeout !== undefined) config.StopTimeout = stopTimeout;

  const hostConfig: HostConfig = {
    Binds: binds.length > 0 ? binds : null,
    LogConfig: { Type: opts.logDriver ?? '', Config: logOpts },
    NetworkMode: network?.name ?? 'default',
    PortBindings: portBindings,
    RestartPolicy: restartPolicy,
    AutoRemove: Boolean(opts.rm),
    CapAdd: nonEmpty(opts.capAdd),
    CapDrop: nonEmpty(opts.capDrop),
    Dns: dns,
    DnsOptions: [...(opts.dnsOption ?? [])],
    DnsSearch: dnsSearch,
    ExtraHosts: extraHosts.length > 0 ? extraHosts : null,
    GroupAdd: nonEmpty(opts.groupAdd),
    Privileged: Boolean(opts.privileged),
    ReadonlyRootfs: Boolean(opts.readOnly),
    SecurityOpt: securityOpts.length > 0 ? securityOpts : null,
    ShmSize: shmSize,
    Memory: memory,
    MemoryReservation: memoryReservation,
    MemorySwap: memorySwap,
    NanoCpus: nanoCpus,
    CpuShares: cpuShares,
    CpuPeriod: cpuPeriod,
    CpuQuota: cpuQuota,
    CpusetCpus: opts.cpusetCpus ?? '',
    PidsLimit: pidsLimit ?? null,
    Ulimits: ulimits.size > 0 ? [...ulimits.values()].sort((a, b) => (a.Name < b.Name ? -1 : 1)) : null,
    OomKillDisable: Boolean(opts.oomKillDisable),
  };
  if (Object.keys(tmpfs).length > 0) hostConfig.Tmpfs = tmpfs;
  if (Object.keys(sysctls).length > 0) hostConfig.Sysctls = sysctls;
  if (opts.runtime) hostConfig.Runtime = opts.runtime;
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  if (opts.init !== undefined) hostConfig.Init = opts.init;
  if (opts.publishAll) hostConfig.PublishAllPorts = true;
  if (egress) hostConfig.Egress = egress;

  const request: ContainerCreateRequest = { config, hostConfig };
  if (aliases.length > 0 || ipv4) {
    const endpoint: EndpointConfig = {};
    if (aliases.length > 0) endpoint.Aliases = aliases;
    if (ipv4) endpoint.IPAMConfig = { IPv4Address: ipv4 };
    request.networkingConfig = { EndpointsConfig: { [network?.name ?? 'default']: endpoint } };
  }
  if (name !== undefined) request.name = name;
  return request;
}

/**
 * The bytes of a `--detach-keys` sequence (moby/term ToBytes): comma-separated single
 * characters, `ctrl-a`…`ctrl-z`, `ctrl-@`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`, `DEL`.
 */
export function parseDetachKeys(keys: string): number[] {
  const ctrl = '@abcdefghijklmnopqrstuvwxyz[\\]^_';
  return keys.split(',').map((key) => {
    if (key.length === 1) return key.charCodeAt(0);
    const i = key.startsWith('ctrl-') && key.length === 6 ? ctrl.indexOf(key[5] as string) : -1;
    if (i >= 0) return i;
    if (key === 'DEL') return 127;
    throw invalid(`invalid detach keys (${keys}): Unknown character: '${key}'`);
  });
}

function nonEmpty(values: string[] | undefined): string[] | null {
  return values && values.length > 0 ? [...values] : null;
}
