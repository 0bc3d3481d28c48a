#!/usr/bin/env node
// Bundles the CLI and the monitor's exit hook into single ES modules (dist/gantry.mjs,
// dist/exit-hook.mjs), and the CLI once more into a startup snapshot (dist/gantry.blob).
// Node loads one file several times faster than the hundred modules of dist/src/ and the
// CommonJS packages they import, and starts from a snapshot faster still; every `gantry` call
// pays that start (see docs/architecture.md). Only better-sqlite3's native addon (loaded on
// first use, see src/metadata/sqlite.ts) stays in node_modules; the library entry
// (dist/src/index.js) is not bundled.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: 'linked',
};
// The bundled CommonJS packages call require() for Node's built-in modules.
const esm = {
  ...common,
  format: 'esm',
  banner: { js: "import { createRequire as __gantryRequire } from 'node:module'; const require = __gantryRequire(import.meta.url);" },
};
await build({ ...esm, entryPoints: ['src/cli/gantry.ts'], outfile: 'dist/gantry.mjs' });
await build({ ...esm, entryPoints: ['src/engine/exit-hook.ts'], outfile: 'dist/exit-hook.mjs' });

// The snapshot: a CommonJS bundle (what --build-snapshot runs), then the heap it leaves.
// bin/gantry falls back to dist/gantry.mjs when the blob is missing or stale. Without
// rehashing: V8 would otherwise rehash every hash table of the heap with a new random seed at
// each start (7 ms per call here); the seed stays the one chosen when the blob is built on this
// machine, and bin/gantry runs the hub, the one server, from the bundle (see there).
// Minified (whitespace and syntax; names kept, for errors and stack traces): the source is part
// of the heap each call restores, and a smaller one restores faster (5 ms per call here).
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/cli/snapshot.ts'],
  outfile: 'dist/gantry-snapshot.cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logOverride: { 'empty-import-meta': 'silent' },
});
rmSync('dist/gantry.blob', { force: true });
const r = spawnSync(process.execPath, ['--no-rehash-snapshot', '--snapshot-blob', 'dist/gantry.blob', '--build-snapshot', 'dist/gantry-snapshot.cjs'], {
  stdio: ['ignore', 'inherit', 'pipe'],
  env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
});
const warnings = r.stderr.toString().split('\n').filter((l) => l && !/not yet fully verified|may still work|request support|issue tracker/.test(l));
if (r.status !== 0) {
  process.stderr.write(`bundle: the startup snapshot failed (gantry runs without it):\n${warnings.join('\n')}\n`);
  rmSync('dist/gantry.blob', { force: true });
}
