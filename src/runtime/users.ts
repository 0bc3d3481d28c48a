/**
 * The container process's identity from `-u`/`--user` or the image's USER, and `--group-add`,
 * looked up in the image's /etc/passwd and /etc/group the way Docker does it (moby/sys/user
 * GetExecUser and GetAdditionalGroups, and daemon/oci_linux.go getUser).
 */
import { readFileSync } from 'node:fs';
import { errors, isErrno } from '../core/errors.js';
import { resolveInRoot } from './secure-path.js';
import type { ResolvedUser } from './spec-input.js';

/** The largest uid/gid Docker accepts (for 32-bit systems' sake). */
const MAX_ID = 2 ** 31 - 1;

/** One /etc/passwd entry (the fields Docker uses). */
interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One /etc/group entry. */
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The lines of a file inside the rootfs, without comments and blank lines; undefined when it does not exist. */
function readLines(rootfs: string, file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(resolveInRoot(rootfs, file), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Go's lenient Atoi as Docker's parser uses it: garbage reads as 0. */
const lenientInt = (s: string | undefined): number => (/^[+-]?\d+$/.test(s ?? '') ? Number(s) : 0);

/** Parses /etc/passwd lines: name:password:uid:gid:gecos:home:shell. */
function parsePasswd(lines: readonly string[]): PasswdEntry[] {
  return lines.map((line) => {
    const f = line.split(':');
    return { name: f[0] ?? '', uid: lenientInt(f[2]), gid: lenientInt(f[3]), home: f[5] ?? '' };
  });
}

/** Parses /etc/group lines: name:password:gid:member,member. */
function parseGroup(lines: readonly string[]): GroupEntry[] {
  return lines.map((line) => {
    const f = line.split(':');
    const list = f[3] ?? '';
    return { name: f[0] ?? '', gid: lenientInt(f[2]), members: list === '' ? [] : list.split(',') };
  });
}

/**
 * A numeric id, or undefined for a name. Throws INVALID_ARGUMENT for numbers out of
 * 0..2^31-1 (Docker: "uids and gids must be in range 0-2147483647").
 */
function numericId(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < 0 || n > MAX_ID) throw errors.invalid(`uids and gids must be in range 0-${MAX_ID}`);
  return n;
}

/** The gids of `--group-add` entries: numbers as they are, names looked up in /etc/group. */
function additionalGroups(groupAdd: readonly string[], groups: readonly GroupEntry[]): number[] {
  return groupAdd.map((g) => {
    const gid = numericId(g);
    const entry = groups.find((e) => (gid === undefined ? e.name === g : e.gid === gid));
    if (entry) {
      if (entry.gid < 0 || entry.gid > MAX_ID) throw errors.invalid(`uids and gids must be in range 0-${MAX_ID}`);
      return entry.gid;
    }
    if (gid === undefined) throw errors.invalid(`unable to find group ${g}: no matching entries in group file`);
    return gid;
  });
}

/**
 * Resolves `userSpec` ("", "user", "uid", "user:group", "uid:gid", "user:gid", "uid:group") in
 * the root filesystem at `rootfs`:
 *  - "" is root (0:0);
 *  - a number is always a uid, whether or not passwd lists it (unlisted: gid 0, home "/");
 *  - a name must be in /etc/passwd, a group name in /etc/group (missing files are fine for numbers);
 *  - without an explicit group, the user's supplementary groups are the /etc/group entries that
 *    list the user's name; with one, there are none.
 * `additionalGids` is, like Docker's, the primary gid, then the supplementary groups, then the
 * `groupAdd` groups (numbers or names in /etc/group), without duplicates.
 */
export function resolveUser(rootfs: string, userSpec: string, groupAdd: readonly string[] = []): ResolvedUser {
  const [userArg = '', groupArg = ''] = userSpec.split(':');
  const uidArg = numericId(userArg);
  const gidArg = numericId(groupArg);
  const passwd = parsePasswd(readLines(rootfs, '/etc/passwd') ?? []);
  const groups = parseGroup(readLines(rootfs, '/etc/group') ?? []);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let matchedName: string | undefined;
  const user = passwd.find((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  if (user) {
    ({ uid, gid } = user);
    home = user.home || '/';
    matchedName = user.name;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw errors.invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg;
  }

  let supplementary: number[] = [];
  if (groupArg !== '') {
    const group = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (group) gid = group.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else throw errors.invalid(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined) {
    supplementary = groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }
  for (const id of [uid, gid]) {
    if (id < 0 || id > MAX_ID) throw errors.invalid(`uids and gids must be in range 0-${MAX_ID}`);
  }
  const additionalGids = [...new Set([gid, ...supplementary, ...additionalGroups(groupAdd, groups)])];
  return { uid, gid, additionalGids, home };
}
