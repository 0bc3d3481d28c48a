/**
 * The installed package's root directory (the nearest directory above this module holding
 * package.json), so that files shipped with gantry are found the same way from the compiled
 * modules in dist/src/ and from the bundled CLI in dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from './errors.js';

let root: string | undefined;

/**
 * The package root. GANTRY_HOME names it when set (bin/gantry sets it: the CLI may run from
 * a startup snapshot, where modules have no file of their own).
 */
export function packageRoot(): string {
  if (root) return root;
  if (process.env.GANTRY_HOME) return (root = process.env.GANTRY_HOME);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw errors.internal('cannot locate the gantry package root');
    dir = parent;
  }
}

/** The package's version (package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
