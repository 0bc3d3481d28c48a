/**
 * The rules of Docker's `local` volume driver (moby volume/local): which names it accepts and
 * which driver options (`-o type=… -o device=… -o o=…`, `size=`) it understands. gantry checks
 * both exactly as Docker does, so a mistake gets Docker's message; it does not mount devices,
 * so valid options are then refused with NOT_IMPLEMENTED.
 */
import { errors, GantryError } from '../core/errors.js';

/** Docker's names.RestrictedNameChars, as its messages print it. */
const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const VALID_OPTIONS = ['type', 'o', 'device', 'size'];
/** Options that need others (Docker's mandatoryOpts), checked in a fixed order. */
const REQUIRED_WITH: [string, string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** Throws INVALID_ARGUMENT with Docker's message unless `name` is a valid local volume name. */
export function validateVolumeName(name: string): void {
  // NOTE: Go's len counts bytes, so a one-character non-ASCII name gets the second message.
  if (Buffer.byteLength(name) === 1) {
    throw errors.invalid(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!VALID_NAME.test(name)) {
    throw errors.invalid(
      `create ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(RESTRICTED_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/**
 * Checks driver options as Docker's local driver does (unknown option, bad size, missing
 * companion option); any option left is refused, since gantry does not mount devices.
 */
export function validateLocalOptions(name: string, options: Record<string, string>): void {
  const keys = Object.keys(options);
  if (keys.length === 0) return;
  for (const key of [...keys].sort()) {
    if (!VALID_OPTIONS.includes(key)) throw errors.invalid(`create ${name}: invalid option: ${JSON.stringify(key)}`);
  }
  if (options.size !== undefined) {
    const size = ramInBytes(options.size);
    if (size === undefined) throw errors.invalid(`create ${name}: invalid size: '${options.size}'`);
    if (size > 0) throw errors.invalid(`create ${name}: quota size requested but no quota support`);
  }
  for (const [key, needs] of REQUIRED_WITH) {
    if (!(key in options)) continue;
    for (const need of needs) {
      if (!(need in options)) throw errors.invalid(`create ${name}: missing required option: ${JSON.stringify(need)}`);
    }
  }
  throw new GantryError('NOT_IMPLEMENTED', `create ${name}: local volume options (${keys.join(', ')}) are not supported by gantry`, {
    hint: 'create the volume without -o, or bind-mount the host directory with -v /host/path:/path',
  });
}

/** go-units RAMInBytes: `512m`, `1.5g`, `10GiB` → bytes (binary multiples); undefined when malformed. */
function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) return undefined;
  const n = Number.parseFloat(m[1] as string);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === '' ? 1 : 1024 ** ('kmgtp'.indexOf(unit) + 1);
  return Math.trunc(n * mult);
}
