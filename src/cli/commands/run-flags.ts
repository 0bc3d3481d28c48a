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
 */
import { type Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type {
  ContainerCreateConfig,
  ContainerCreateRequest,
  HostConfig,
  MountSpec,
  RestartPolicy,
  Ulimit,
} from '../../core/container-types.js';
import { errors, type GantryError } from '../../core/errors.js';
import { parseRAMInBytes } from '../format/units.js';
import { collect } from '../options.js';

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
  addBool(cmd, '--oom-kill-disable', 'Disable OOM Killer');
  cmd.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
  cmd.option('--platform <string>', 'Set platform if server is multi-platform capable');
  addBool(cmd, '--privileged', 'Give extended privileges to this container');
  list('-p, --publish', "Publish a container's port(s) to the host");
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

/** The spellings Go's strconv.ParseBool accepts. */
const GO_BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

function parseGoBool(value: string, flag: string): boolean {
  if (GO_BOOL_TRUE.includes(value)) return true;
  if (GO_BOOL_FALSE.includes(value)) return false;
  throw flagError(flag, value, `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
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
    throw invalid(`connecting to more than one network at create is not supported: ${networks.join(', ')}`, {
      hint: 'create with one --network, then use "gantry network connect"',
    });
  }
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
    NetworkMode: networks[0] ?? 'default',
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

  const request: ContainerCreateRequest = { config, hostConfig };
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

// ---------------------------------------------------------------------------------------------
// Errors and Go's parsing functions.

/**
 * An INVALID_ARGUMENT error. Docker exits 125 when `run`/`create` reject their input; the
 * `usage` mark is how cli/errors.ts exitCodeOf() gives an INVALID_ARGUMENT that exit code.
 */
function invalid(message: string, options?: { hint?: string }): GantryError {
  return Object.assign(errors.invalid(message, options), { usage: true });
}

/** pflag's error for a value a flag rejects. */
function flagError(flag: string, value: string, cause: string): GantryError {
  return invalid(`invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${cause}`);
}

/** Go's %q for the strings that appear here. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's strings.Cut. */
function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, '', false] : [s.slice(0, i), s.slice(i + sep.length), true];
}

function nonEmpty(values: string[] | undefined): string[] | null {
  return values && values.length > 0 ? [...values] : null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 0, 64), as pflag's int flags read their values. */
function parseGoInt(s: string): number {
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?\d)*)$/.exec(s);
  if (!m) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  let digits = (m[2] as string).replace(/_/g, '');
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`;
  const n = (m[1] === '-' ? -1n : 1n) * BigInt(digits);
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** An int64 flag's value (`--cpu-shares`, `--pids-limit`, ...); undefined when not given. */
function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseGoInt(value);
  } catch (err) {
    throw flagError(flag, value, (err as Error).message);
  }
}

/** A bytes flag (`-m 512m`): go-units RAMInBytes; 0 when not given. */
function bytesFlag(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return parseRAMInBytes(value);
  } catch (err) {
    throw flagError(flag, value, (err as Error).message);
  }
}

/** `--cpus`: docker/cli opts.ParseCPUs (a big.Rat times 1e9, which must be whole). */
function parseCpus(value: string): number {
  const fail = (cause: string) => flagError('--cpus', value, cause);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(value);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1] as string);
    den = BigInt(frac[2] as string);
    if (den === 0n) throw fail(`failed to parse ${value} as a rational number`);
  } else if (dec && ((dec[2] ?? '') + (dec[3] ?? '')).length > 0) {
    const fraction = dec[3] ?? '';
    num = BigInt((dec[2] ?? '') + fraction || '0') * (dec[1] === '-' ? -1n : 1n);
    den = 10n ** BigInt(fraction.length);
    const exp = Number(dec[4] ?? '0');
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  } else {
    throw fail(`failed to parse ${value} as a rational number`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw fail('value is too precise');
  return Number(nano / den);
}

// ---------------------------------------------------------------------------------------------
// Per-flag validation (docker/cli opts/).

function validateAttach(value: string): string {
  const s = value.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw flagError('-a, --attach', value, 'valid streams are STDIN, STDOUT and STDERR');
}

/** `-e KEY=VAL` as given; `-e KEY` takes the value from `env`, and is dropped when KEY is unset there. */
function validateEnv(value: string, lookup: (key: string) => string | undefined): string[] {
  const [key, , hasValue] = cut(value, '=');
  if (key === '') throw flagError('-e, --env', value, `invalid environment variable: ${value}`);
  if (hasValue) return [value];
  const found = lookup(key);
  return found === undefined ? [] : [`${key}=${found}`];
}

function validateLabel(value: string): string {
  const key = cut(value, '=')[0].replace(/^[ \t]+/, '');
  if (key === '') throw flagError('-l, --label', value, `invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw flagError('-l, --label', value, `label '${key}' contains whitespaces`);
  return value;
}

/** `host:ip`, `host=ip`, `host:[v6]` or `host:host-gateway`, normalised to `host:ip` for the API. */
function validateExtraHost(value: string): string {
  const flag = '--add-host';
  let [k, v, ok] = cut(value, '=');
  if (!ok) [k, v, ok] = cut(value, ':');
  if (!ok || k === '' || k.includes(':')) throw flagError(flag, value, `bad format for add-host: ${goQuote(value)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (isIP(v.trim()) === 0) throw flagError(flag, value, `invalid IP address in add-host: ${goQuote(v)}`);
  }
  return `${k}:${v}`;
}

function validateDnsServer(value: string): string {
  const ip = value.trim();
  if (isIP(ip) === 0) throw flagError('--dns', value, `IP address is not correctly formatted: ${value}`);
  return ip;
}

// docker/cli opts.go's domainRegexp, verbatim (its `(:?` groups allow a colon, as Docker's do).
const DOMAIN =
  /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

function validateDnsSearch(value: string): string {
  const v = value.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /[a-zA-Z]/.test(v) ? DOMAIN.exec(v) : null;
  if (m && (m[1] as string).length < 255) return m[1] as string;
  throw flagError('--dns-search', value, `${v} is not a valid domain`);
}

/** Docker allows the namespaced sysctls only: kernel IPC ones, net.*, fs.mqueue.*. */
function validateSysctl(value: string): [string, string] {
  const [k, v, ok] = cut(value, '=');
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax'];
  const allowed =
    [...ipc, 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.');
  if (!ok || k === '' || !allowed) throw flagError('--sysctl', value, `sysctl '${value}' is not allowed`);
  return [k, v];
}

const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]`. */
function parseUlimit(value: string): Ulimit {
  const fail = (cause: string) => flagError('--ulimit', value, cause);
  const [name, limits, ok] = cut(value, '=');
  if (!ok) throw fail(`invalid ulimit argument: ${value}`);
  if (!ULIMIT_NAMES.has(name)) throw fail(`invalid ulimit type: ${name}`);
  const parts = limits.split(':');
  if (parts.length > 2) {
    throw fail(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  }
  const parse = (s: string) => {
    if (!/^[+-]?\d+$/.test(s)) throw fail(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
    const n = BigInt(s);
    if (n < INT64_MIN || n > INT64_MAX) throw fail(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
    return Number(n);
  };
  const hard = parts.length === 2 ? parse(parts[1] as string) : undefined;
  const soft = parse(parts[0] as string);
  if (hard !== undefined && hard !== -1) {
    if (soft === -1) {
      throw fail(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    }
    if (soft > hard) throw fail(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Soft: soft, Hard: hard ?? soft };
}

/** `--network NAME` or the long form `name=NAME`; gantry does not take per-network options yet. */
function parseNetworkFlag(value: string): string {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return value;
  let target = '';
  for (const field of parseCsvRecord(value, '--network')) {
    const [rawKey, rawVal, ok] = cut(field.toLowerCase(), '=');
    const key = rawKey.trim();
    if (!ok || key === '') throw flagError('--network', value, `invalid field ${field}`);
    if (key === 'name') target = rawVal.trim();
    else if (['alias', 'ip', 'ip6', 'mac-address', 'link-local-ip', 'driver-opt', 'gw-priority'].includes(key)) {
      throw flagError('--network', value, `network option '${key}' is not supported by gantry yet`);
    } else throw flagError('--network', value, `invalid field key ${key}`);
  }
  if (target === '') throw flagError('--network', value, 'network name/id is not specified');
  return target;
}

function validatePull(pull: string | undefined): void {
  if (pull === undefined || ['always', 'missing', 'never', ''].includes(pull)) return;
  throw invalid(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
}

// ---------------------------------------------------------------------------------------------
// Key/value files (docker/cli pkg/kvfile).

/**
 * Reads `--env-file`/`--label-file` files: one KEY=VALUE a line, `#` comments and blank lines
 * skipped, leading whitespace trimmed, a line's KEY without `=` taking its value from `lookup`
 * (dropped without one, and always for label files).
 */
function readKeyValueFiles(flag: string, files: string[], lookup?: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw invalid(`${flag}: ${goFileError(err, file)}`);
    }
    try {
      out.push(...parseKeyValueLines(data, lookup));
    } catch (err) {
      throw invalid(`${flag}: invalid env file (${file}): ${(err as Error).message}`);
    }
  }
  return out;
}

function parseKeyValueLines(data: Buffer, lookup?: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let lineNo = 1; start < data.length; lineNo++) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    const bytes = data.subarray(start, end > start && data[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new Error(`invalid utf8 bytes at line ${lineNo}: [${[...bytes].join(' ')}]`);
    }
    if (lineNo === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    const line = text.replace(/^[\s\u0085]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const [key, , hasValue] = cut(line, '=');
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`variable '${key}' contains whitespaces`);
    if (hasValue) out.push(line);
    else if (lookup) {
      const value = lookup(line);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  }
  return out;
}

/** The message Go's os.Open/os.ReadFile would give. */
function goFileError(err: unknown, file: string): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  if (e.code === 'EISDIR') return `read ${file}: is a directory`;
  return `open ${file}: ${(e.code && reasons[e.code]) ?? e.message}`;
}

// ---------------------------------------------------------------------------------------------
// Restart policy, logging, security options.

function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const [name, count, hasCount] = cut(policy, ':');
  if (hasCount && name === '') throw invalid('invalid restart policy format: no policy provided before colon');
  let retries = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count) || BigInt(count) < INT64_MIN || BigInt(count) > INT64_MAX) {
      throw invalid('invalid restart policy format: maximum retry count must be an integer');
    }
    retries = Number(count);
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: retries };
}

function validateRestartPolicy(policy: RestartPolicy): void {
  const retries = policy.MaximumRetryCount ?? 0;
  switch (policy.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (retries !== 0) {
        const negative = retries < 0 ? ' and cannot be negative' : '';
        throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${negative}`);
      }
      return;
    case 'on-failure':
      if (retries < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw invalid(
        `invalid restart policy: unknown policy '${policy.Name as string}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
      );
  }
}

function parseLoggingOpts(driver: string, logOpts: string[]): Record<string, string> {
  if (driver === 'none' && logOpts.length > 0) throw invalid(`invalid logging opts for driver ${driver}`);
  const out: Record<string, string> = {};
  for (const o of logOpts) {
    const [k, v] = cut(o, '=');
    out[k] = v;
  }
  return out;
}

/**
 * `--security-opt`: no-new-privileges[=bool|:bool], seccomp=unconfined|builtin, apparmor=...,
 * label=..., writable-cgroups=bool; kept verbatim (both `=` and the old `:` separator, as
 * Docker's daemon reads them). A seccomp profile file is not supported yet.
 */
function parseSecurityOpts(securityOpts: string[]): string[] {
  for (const opt of securityOpts) {
    let [k, v, ok] = cut(opt, '=');
    if (!ok && k !== 'no-new-privileges') [k, v, ok] = cut(opt, ':');
    if ((!ok || v === '') && k !== 'no-new-privileges') {
      throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
    }
    switch (k) {
      case 'no-new-privileges':
      case 'writable-cgroups':
        if (ok && !GO_BOOL_TRUE.includes(v) && !GO_BOOL_FALSE.includes(v)) {
          throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
        }
        break;
      case 'seccomp':
        if (v !== 'unconfined' && v !== 'builtin') {
          throw invalid(`seccomp profile files are not supported yet: --security-opt ${goQuote(opt)}`, {
            hint: 'use seccomp=unconfined or leave out the option for the default profile',
          });
        }
        break;
      case 'apparmor':
      case 'label':
        break;
      default:
        throw invalid(`invalid --security-opt: ${goQuote(opt)}`);
    }
  }
  return [...securityOpts];
}

// ---------------------------------------------------------------------------------------------
// Daemon-side checks.

function validateWorkingDir(dir: string): string {
  if (!dir.startsWith('/')) {
    throw invalid(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  }
  return cleanPath(dir);
}

/** Go's path.Clean for absolute paths. */
function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1',
  'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${14 - i}`),
]);

/** moby/sys/signal ParseSignal: a number other than 0, or a name with or without SIG. */
function validateSignal(sig: string): void {
  if (/^[+-]?\d+$/.test(sig)) {
    if (Number(sig) !== 0) return;
  } else if (SIGNALS.has(sig.toUpperCase().replace(/^SIG/, ''))) return;
  throw invalid(`invalid signal: ${sig}`);
}

const CAPABILITIES = new Set(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
    'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
    'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
    'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
    'CHECKPOINT_RESTORE',
  ].map((c) => `CAP_${c}`),
);

/** Capability names, case-insensitive, with or without CAP_, or ALL (moby caps.NormalizeLegacyCapabilities). */
function validateCapabilities(field: 'CapAdd' | 'CapDrop', caps: string[]): void {
  for (const c of caps) {
    const upper = c.toUpperCase();
    if (upper === 'ALL') continue;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!CAPABILITIES.has(name)) throw invalid(`invalid ${field}: unknown capability: ${goQuote(name)}`);
  }
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** moby verifyPlatformContainerResources: memory and CPU limits. */
function validateResources(r: {
  memory: number;
  memorySwap: number;
  memoryReservation: number;
  nanoCpus: number;
  cpuPeriod: number;
  cpuQuota: number;
}): void {
  if (r.memory !== 0 && r.memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (r.memory > 0 && r.memorySwap > 0 && r.memorySwap < r.memory) {
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.memory === 0 && r.memorySwap > 0) {
    throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.memoryReservation > 0 && r.memoryReservation < MIN_MEMORY) {
    throw invalid('Minimum memory reservation allowed is 6MB');
  }
  if (r.memory > 0 && r.memoryReservation > 0 && r.memory < r.memoryReservation) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.nanoCpus > 0 && r.cpuPeriod > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.nanoCpus > 0 && r.cpuQuota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const cpus = availableParallelism();
  if (r.nanoCpus < 0 || r.nanoCpus > cpus * 1e9) {
    throw invalid(`range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  }
  if (r.cpuPeriod !== 0 && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (r.cpuQuota > 0 && r.cpuQuota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/** `--cpuset-cpus`: a list such as `0-3,5` (moby parsers.ParseUintList). */
function validateCpuset(value: string): void {
  const ok = value.split(',').every((r) => {
    const [lo, hi, isRange] = cut(r, '-');
    if (!isRange || hi === '') return /^[+-]?\d+$/.test(r) && Number(r) >= 0;
    return /^[+-]?\d+$/.test(lo) && /^[+-]?\d+$/.test(hi) && Number(lo) >= 0 && Number(hi) >= Number(lo);
  });
  if (!ok) throw invalid(`Invalid value ${value} for cpuset cpus: invalid format: ${value}`);
}

// ---------------------------------------------------------------------------------------------
// -v / --volume (docker/cli internal/volumespec, then moby's linux mount parser).

/**
 * Splits the `-v` values the way Docker's CLI does: a value with a source (`/host:/ctr`,
 * `./rel:/ctr` made absolute, `name:/ctr`) is a bind for HostConfig.Binds, a lone path an
 * anonymous volume for Config.Volumes. Duplicates are dropped.
 */
function parseVolumeFlags(specs: string[]): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of new Set(specs)) {
    const source = volumeSpecSource(spec);
    if (source === '') {
      validateAnonymousVolume(spec);
      volumes[spec] = {};
      continue;
    }
    let bind = spec;
    if (source.startsWith('.')) {
      const [host, rest] = cut(spec, ':');
      bind = `${resolve(host)}:${rest}`;
    }
    if (!binds.includes(bind)) binds.push(bind);
  }
  return { binds, volumes };
}

/** docker/cli volumespec.Parse, reduced to its errors and the source it finds. */
function volumeSpecSource(spec: string): string {
  if (spec === '') throw invalid('invalid empty volume spec');
  if (spec.length <= 2) return '';
  const segments = spec.split(':');
  for (const [i, seg] of segments.entries()) {
    if (seg === '') throw invalid(`invalid spec: ${spec}: empty section between colons`);
    if (i === 2 && segments.length > 3) throw invalid(`invalid spec: ${spec}: too many colons`);
  }
  return segments.length === 1 ? '' : (segments[0] as string);
}

function validateAnonymousVolume(target: string): void {
  try {
    validateMountTarget(target);
  } catch (err) {
    throw invalid(`invalid volume specification: '${target}': invalid mount config for type "volume": ${(err as Error).message}`);
  }
}

const PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'];

/** moby linuxValidMountMode: at most one of each kind of mode. */
function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const kinds = new Map<string, number>();
  for (const o of mode.split(',')) {
    let kind: string;
    if (o === 'rw' || o === 'ro') kind = 'rw';
    else if (o === 'z' || o === 'Z') kind = 'label';
    else if (PROPAGATIONS.includes(o)) kind = 'propagation';
    else if (o === 'nocopy') kind = 'copy';
    else if (['consistent', 'cached', 'delegated'].includes(o)) kind = 'consistency';
    else return false;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds.values()].every((n) => n <= 1);
}

/** moby linuxParser.ParseMountRaw on a `-v src:dst[:mode]` bind, then the local driver's name rules. */
function validateBind(raw: string): void {
  const specError = () => invalid(`invalid volume specification: '${raw}'`);
  const arr = raw.split(':');
  if (arr.length > 3) throw specError();
  const [source = '', target = ''] = arr;
  let mode = '';
  if (source === '') throw specError();
  if (arr.length === 2 && validMountMode(target)) throw specError();
  if (arr.length === 3) mode = arr[2] as string;
  if (!validMountMode(mode)) throw invalid(`invalid mode: ${mode}`);
  const type = source.startsWith('/') ? 'bind' : 'volume';
  const modes = mode.split(',');
  const extra =
    type === 'volume' && modes.some((m) => PROPAGATIONS.includes(m))
      ? 'BindOptions'
      : type === 'bind' && modes.includes('nocopy')
        ? 'VolumeOptions'
        : undefined;
  try {
    if (extra) throw new Error(`field ${extra} must not be specified`);
    validateMountTarget(target);
  } catch (err) {
    throw invalid(`invalid volume specification: '${raw}': invalid mount config for type "${type}": ${(err as Error).message}`);
  }
  if (type === 'volume') validateVolumeName(source);
}

/** The local volume driver's names: two or more of [a-zA-Z0-9][a-zA-Z0-9_.-]. */
function validateVolumeName(name: string): void {
  if (name.length === 1) {
    throw invalid(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw invalid(
      `create ${name}: ${goQuote(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** A mount destination must be absolute and not `/` (moby linuxValidateNotRoot/Absolute). */
function validateMountTarget(target: string): void {
  if (cleanPath(`/${target}`) === '/' && target.startsWith('/')) {
    throw invalid("invalid specification: destination can't be '/'");
  }
  if (!target.startsWith('/')) throw invalid(`invalid mount path: '${target}' mount path must be absolute`);
}

// ---------------------------------------------------------------------------------------------
// --mount (docker/cli opts/mount.go, then moby's mount validation).

/** Go's encoding/csv reading one record (quoted fields, `""` escapes). */
function parseCsvRecord(value: string, flag: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        const q = value.indexOf('"', i);
        if (q < 0) throw flagError(flag, value, `parse error on line 1, column ${value.length + 1}: extraneous or missing " in quoted-field`);
        field += value.slice(i, q);
        i = q + 1;
        if (value[i] === '"') {
          field += '"';
          i++;
        } else if (i === value.length || value[i] === ',') break;
        else throw flagError(flag, value, `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      }
    } else {
      const end = value.indexOf(',', i);
      field = value.slice(i, end < 0 ? value.length : end);
      const quote = field.indexOf('"');
      if (quote >= 0) throw flagError(flag, value, `parse error on line 1, column ${i + quote + 1}: bare " in non-quoted-field`);
      i = end < 0 ? value.length : end;
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++; // the comma
  }
}

/** docker/cli parseBoolValue: 1/true/0/false, or true without a value. */
function mountBool(flag: string, value: string, key: string, v: string, hasValue: boolean): boolean {
  if (!hasValue || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw flagError(
    flag,
    value,
    `invalid value for '${key}': invalid boolean value (${goQuote(v)}): must be one of "true", "1", "false", or "0" (default "true")`,
  );
}

/** One `--mount type=...,source=...,target=...[,...]` into a MountSpec (docker/cli MountOpt.Set). */
function parseMountFlag(input: string): MountSpec {
  const flag = '--mount';
  const fail = (cause: string) => flagError(flag, input, cause);
  const value = input.trim();
  if (value === '') throw fail('value is empty');
  const mount: MountSpec = { Type: 'volume', Target: '' };
  let type = 'volume';
  for (const field of parseCsvRecord(value, flag)) {
    const [rawKey, val, hasValue] = cut(field, '=');
    if (rawKey.trim() !== rawKey) throw fail(`invalid option '${rawKey.trim()}' in '${field}': option should not have whitespace`);
    if (hasValue) {
      if (val.trim() === '') throw fail(`invalid value for '${rawKey}': value is empty`);
      if (val.trim() !== val) throw fail(`invalid value for '${rawKey}' in '${field}': value should not have whitespace`);
    }
    const key = rawKey.toLowerCase();
    if (!hasValue && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) {
      throw fail(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = !isAbsolute(val) && val.startsWith('.') ? resolve(val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = mountBool(flag, input, key, val, hasValue);
        break;
      case 'consistency':
        break; // Only meaningful on Docker Desktop; accepted and ignored on Linux, as Docker does.
      case 'bind-propagation':
        mount.BindOptions = { ...mount.BindOptions, Propagation: val.toLowerCase() };
        break;
      case 'bind-nonrecursive':
        throw fail('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
      case 'bind-recursive':
        if (!['enabled', 'disabled', 'writable', 'readonly'].includes(val)) {
          throw fail(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        if (val !== 'enabled') throw fail(`bind-recursive=${val} is not supported by gantry yet`);
        mount.BindOptions = { ...mount.BindOptions };
        break;
      case 'bind-create-src':
        mount.BindOptions = { ...mount.BindOptions, CreateMountpoint: mountBool(flag, input, key, val, hasValue) };
        break;
      case 'volume-nocopy':
        mount.VolumeOptions = { ...mount.VolumeOptions, NoCopy: mountBool(flag, input, key, val, hasValue) };
        break;
      case 'volume-label': {
        const [k, v] = cut(val, '=');
        mount.VolumeOptions = { ...mount.VolumeOptions };
        if (k !== '') mount.VolumeOptions.Labels = { ...mount.VolumeOptions.Labels, [k]: v };
        break;
      }
      case 'volume-driver':
        if (val !== 'local') throw fail(`volume driver '${val}' is not supported by gantry (only "local")`);
        mount.VolumeOptions = { ...mount.VolumeOptions };
        break;
      case 'volume-subpath':
      case 'volume-opt':
      case 'image-subpath':
        throw fail(`option '${key}' is not supported by gantry yet`);
      case 'tmpfs-size': {
        let size: number;
        try {
          size = parseRAMInBytes(val);
        } catch {
          throw fail(`invalid value for ${key}: ${val}`);
        }
        mount.TmpfsOptions = { ...mount.TmpfsOptions, SizeBytes: size };
        break;
      }
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw fail(`invalid value for ${key}: ${val}`);
        mount.TmpfsOptions = { ...mount.TmpfsOptions, Mode: parseInt(val, 8) };
        break;
      default:
        throw fail(`unknown option '${key}' in '${field}'`);
    }
  }
  // Client-side exclusive-options check, in the CLI's words.
  for (const [options, kind] of [
    [mount.BindOptions, 'bind'],
    [mount.VolumeOptions, 'volume'],
    [mount.TmpfsOptions, 'tmpfs'],
  ] as const) {
    if (options && type !== kind) throw fail(`cannot mix '${kind}-*' options with mount type '${type}'`);
  }
  mount.Type = type as MountSpec['Type'];
  return mount;
}

/** moby validateMountConfig (without the bind source's existence, which the engine checks). */
function validateMount(m: MountSpec): void {
  const fail = (cause: string) => invalid(`invalid mount config for type ${goQuote(m.Type)}: ${cause}`);
  if (!['bind', 'volume', 'tmpfs'].includes(m.Type)) {
    if (['image', 'npipe', 'cluster'].includes(m.Type)) throw fail('mount type not supported by gantry');
    throw fail('mount type unknown');
  }
  if (m.Target === '') throw fail('field Target must not be empty');
  try {
    validateMountTarget(m.Target);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const source = m.Source ?? '';
  if (m.Type === 'bind') {
    if (source === '') throw fail('field Source must not be empty');
    const propagation = m.BindOptions?.Propagation;
    if (propagation && !PROPAGATIONS.includes(propagation)) throw fail(`invalid propagation mode: ${propagation}`);
    if (!source.startsWith('/')) throw fail(`invalid mount path: '${source}' mount path must be absolute`);
  } else if (m.Type === 'tmpfs') {
    if (source !== '') throw fail('field Source must not be specified');
  } else if (source !== '') {
    validateVolumeName(source);
  }
}

// ---------------------------------------------------------------------------------------------
// -p / --publish and --expose (go-connections nat, moby api network).

type PortMap = Record<string, { HostIp?: string; HostPort?: string }[]>;
type PortSet = Record<string, Record<string, never>>;

/** nat's parsePortNumber: 0–65535, decimal with an optional sign. */
function parsePortNumber(raw: string): number {
  if (raw === '') throw new Error('value is empty');
  if (!/^[+-]?\d+$/.test(raw)) throw new Error('invalid syntax');
  const n = Number(raw);
  if (n < 0 || n > 65535) throw new Error('value out of range (0–65535)');
  return n;
}

/** nat's parsePortRange: `80` or `8000-8010`. */
function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  const [start, end, isRange] = cut(ports, '-');
  const lo = parsePortNumber(start);
  if (!isRange || start === end) return [lo, lo];
  const hi = parsePortNumber(end);
  if (hi < lo) throw new Error(`invalid port range: ${ports}`);
  return [lo, hi];
}

/** `-p [ip:][hostPort:]containerPort[/proto]` (ranges allowed) or the long `published=...,target=...` form. */
function parsePublish(specs: string[]): { exposedPorts: PortSet; portBindings: PortMap } {
  const exposedPorts: PortSet = {};
  const portBindings: PortMap = {};
  for (const spec of specs.map(toStandardNotation)) {
    for (const [port, binding] of parsePortSpec(spec)) {
      exposedPorts[port] = {};
      (portBindings[port] ??= []).push(binding);
    }
  }
  return { exposedPorts, portBindings };
}

/** docker/cli convertToStandardNotation: `published=8080,target=80[,protocol=udp]` → `8080:80/udp`. */
function toStandardNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const [k, v, ok] = cut(param, '=');
    if (!ok || k === '') throw invalid(`invalid publish opts format (should be name=value but got '${param}')`);
    params[k] = v;
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol ?? ''}`;
}

/** nat.ParsePortSpec: one spec into (port, binding) pairs. */
function parsePortSpec(raw: string): [string, { HostIp: string; HostPort: string }][] {
  const parts = raw.split(':');
  const n = parts.length;
  let ip = n > 2 ? parts.slice(0, n - 2).join(':') : '';
  const hostPort = n > 1 ? (parts[n - 2] as string) : '';
  const [containerPort, protoRaw] = cut(parts[n - 1] as string, '/');
  if (containerPort === '') throw invalid(`no port specified: ${raw}<empty>`);
  const proto = (protoRaw || 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw invalid(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) throw invalid(`invalid IP address: ${ip}`);
  let start: number, end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw invalid(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0, hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw invalid(`invalid hostPort: ${hostPort}`);
    }
    // A host range with a single container port is the range to pick a free host port from.
    if (end - start !== hostEnd - hostStart && end !== start) {
      throw invalid(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const count = end - start + 1;
  const out: [string, { HostIp: string; HostPort: string }][] = [];
  for (let i = 0; i < count; i++) {
    let hPort = '';
    if (hostPort !== '') {
      hPort = String(hostStart + i);
      if (count === 1 && hostStart !== hostEnd) hPort += `-${hostEnd}`;
    }
    out.push([`${start + i}/${proto}`, { HostIp: ip, HostPort: hPort }]);
  }
  return out;
}

/** `--expose 80`, `--expose 8000-8010/udp` into ExposedPorts (moby network.ParsePortRange). */
function exposePorts(spec: string, exposed: PortSet): void {
  const fail = (cause: string) => invalid(`invalid range format for --expose: ${cause}`);
  if (spec === '') throw fail('invalid port range: value is empty');
  const [range, protoRaw] = cut(spec, '/');
  const proto = (protoRaw || 'tcp').toLowerCase();
  const parse = (s: string, which: string) => {
    if (s === '') throw fail(`invalid ${which} port '${s}': value is empty`);
    if (!/^\d+$/.test(s)) throw fail(`invalid ${which} port '${s}': invalid syntax`);
    if (Number(s) > 65535) throw fail(`invalid ${which} port '${s}': value out of range`);
    return Number(s);
  };
  const [startRaw, endRaw, isRange] = cut(range, '-');
  const start = parse(startRaw, 'start');
  const end = !isRange || startRaw === endRaw ? start : parse(endRaw, 'end');
  if (end < start) throw fail(`invalid port range: ${spec}`);
  for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] = {};
}
