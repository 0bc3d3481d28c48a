/**
 * Deterministic tar headers for layer diffs: a POSIX ustar header, preceded by a PAX extended
 * header when a field does not fit ustar or the entry has xattrs. Written here rather than with
 * tar-stream's pack because tar-stream encodes PAX values as UTF-8 strings, which mangles
 * binary xattrs such as security.capability, and because the layer's digest depends on every
 * byte, so every byte should be chosen here.
 * https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_06 (ustar)
 * https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_03 (pax)
 */

/** Tar typeflags used in layers. */
export const TarType = {
  file: '0',
  link: '1',
  symlink: '2',
  charDevice: '3',
  blockDevice: '4',
  directory: '5',
  fifo: '6',
} as const;
export type TarType = (typeof TarType)[keyof typeof TarType];

/** One entry's header, as plain data. Owner names are always empty (layers carry numeric IDs). */
export interface TarEntryHeader {
  /** Path inside the layer, no leading `./` or `/`; directories end with `/`. */
  name: string;
  type: TarType;
  /** Permission bits with setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Content length (regular files only; 0 otherwise). */
  size: number;
  /** Modification time, whole seconds since the epoch. */
  mtime: number;
  /** Symlink target, or the earlier entry a hard link points to. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as `SCHILY.xattr.<name>` PAX records with raw byte values. */
  xattrs?: ReadonlyArray<readonly [string, Buffer]>;
}

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero padding after `size` content bytes up to the next block boundary. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Largest value an octal field of `width` bytes (digits plus a NUL) holds. */
const maxOctal = (width: number) => 8 ** (width - 1) - 1;
const fitsOctal = (n: number, width: number) => Number.isSafeInteger(n) && n >= 0 && n <= maxOctal(width);

function writeOctal(buf: Buffer, n: number, offset: number, width: number): void {
  buf.write(`${n.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
}

/** One PAX record: `"<length> <key>=<value>\n"`, where length counts the whole record. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
  let digits = String(body).length;
  if (String(body + digits).length > digits) digits++;
  const len = body + digits;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** The 512-byte ustar header block; `name` and `linkname` are cut to 100 bytes (a PAX record carries the rest). */
function ustar(h: Omit<TarEntryHeader, 'type'> & { type: TarType | 'x' }, name: Buffer, linkname: Buffer): Buffer {
  const buf = Buffer.alloc(BLOCK);
  name.copy(buf, 0, 0, Math.min(name.length, 100));
  writeOctal(buf, h.mode & 0o7777, 100, 8);
  writeOctal(buf, fitsOctal(h.uid, 8) ? h.uid : 0, 108, 8);
  writeOctal(buf, fitsOctal(h.gid, 8) ? h.gid : 0, 116, 8);
  writeOctal(buf, fitsOctal(h.size, 12) ? h.size : 0, 124, 12);
  writeOctal(buf, fitsOctal(h.mtime, 12) ? h.mtime : 0, 136, 12);
  buf.write(h.type, 156, 1, 'latin1');
  linkname.copy(buf, 157, 0, Math.min(linkname.length, 100));
  buf.write('ustar\x0000', 257, 8, 'latin1');
  writeOctal(buf, fitsOctal(h.devmajor ?? 0, 8) ? (h.devmajor ?? 0) : 0, 329, 8);
  writeOctal(buf, fitsOctal(h.devminor ?? 0, 8) ? (h.devminor ?? 0) : 0, 337, 8);
  // Checksum: byte sum with the checksum field itself counted as spaces; six digits, NUL, space.
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return buf;
}

/**
 * The header blocks of one entry: a PAX header (type `x`) with its records when needed, then
 * the ustar header. The same input always gives the same bytes: records are sorted by key and
 * the PAX header's own fields are fixed.
 */
export function encodeTarHeader(h: TarEntryHeader): Buffer {
  const name = Buffer.from(h.name);
  const linkname = Buffer.from(h.linkname ?? '');
  const records = new Map<string, Buffer>();
  if (name.length > 100) records.set('path', name);
  if (linkname.length > 100) records.set('linkpath', linkname);
  if (!fitsOctal(h.uid, 8)) records.set('uid', Buffer.from(String(h.uid)));
  if (!fitsOctal(h.gid, 8)) records.set('gid', Buffer.from(String(h.gid)));
  if (!fitsOctal(h.size, 12)) records.set('size', Buffer.from(String(h.size)));
  if (!fitsOctal(h.mtime, 12)) records.set('mtime', Buffer.from(String(h.mtime)));
  for (const [key, value] of h.xattrs ?? []) records.set(`SCHILY.xattr.${key}`, value);
  const header = ustar(h, name, linkname);
  if (records.size === 0) return header;

  const keys = [...records.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const data = Buffer.concat(keys.map((k) => paxRecord(k, records.get(k) as Buffer)));
  // The PAX header's own name only matters to tools that do not know PAX; Go's archive/tar
  // uses the same shape. Fixed mode, owner and time keep it deterministic.
  const trimmed = h.name.replace(/\/+$/, '');
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  const paxName = Buffer.from(`PaxHeaders.0/${base}`).subarray(0, 100).toString('latin1');
  const pax = ustar(
    { name: paxName, type: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 },
    Buffer.from(paxName, 'latin1'),
    Buffer.alloc(0),
  );
  return Buffer.concat([pax, data, padding(data.length), header]);
}
