/** The bytes a directory tree takes, for `ps -s`, `system df` and layer sizes. */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes in a directory tree (files counted once per inode). */
export function dirSize(dir: string): number {
  let total = 0;
  const seen = new Set<number>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try {
        st = lstatSync(p, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (!seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}

