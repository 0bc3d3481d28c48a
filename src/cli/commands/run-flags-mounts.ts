/**
 * `-v`/`--volume`, `--mount` and `--tmpfs` destinations for `gantry create`/`run`: docker/cli's
 * parsing (internal/volumespec, opts/mount.go) and moby's mount validation, with their wording.
 * Used by run-flags.ts.
 */
import { isAbsolute, resolve } from 'node:path';
import type { MountSpec } from '../../core/container-types.js';
import { parseRAMInBytes } from '../format/units.js';
import { cleanPath, cut, flagError, goQuote, invalid, parseCsvRecord } from './run-flags-go.js';

// ---------------------------------------------------------------------------------------------
// -v / --volume (docker/cli internal/volumespec, then moby's linux mount parser).

/**
 * Splits the `-v` values the way Docker's CLI does: a value with a source (`/host:/ctr`,
 * `./rel:/ctr` made absolute, `name:/ctr`) is a bind for HostConfig.Binds, a lone path an
 * anonymous volume for Config.Volumes. Duplicates are dropped.
 */
export function parseVolumeFlags(specs: string[]): { binds: string[]; volumes: Record<string, Record<string, never>> } {
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
export function validateBind(raw: string): void {
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
export function validateMountTarget(target: string): void {
  if (cleanPath(`/${target}`) === '/' && target.startsWith('/')) {
    throw invalid("invalid specification: destination can't be '/'");
  }
  if (!target.startsWith('/')) throw invalid(`invalid mount path: '${target}' mount path must be absolute`);
}

// ---------------------------------------------------------------------------------------------
// --mount (docker/cli opts/mount.go, then moby's mount validation).

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
export function parseMountFlag(input: string): MountSpec {
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
export function validateMount(m: MountSpec): void {
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
