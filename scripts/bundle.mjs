#!/usr/bin/env node
// Bundles the CLI and the monitor's exit hook into single ES modules (dist/gantry.mjs,
// dist/exit-hook.mjs). Node loads one file several times faster than the hundred modules of
// dist/src/ and the CommonJS packages they import, and every `gantry` call pays that load
// (see docs/architecture.md). Only better-sqlite3 (a native addon) stays in node_modules; the
// library entry (dist/src/index.js) is not bundled.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['better-sqlite3'], logLevel: 'warning', sourcemap: 'linked',
  // The bundled CommonJS packages call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __gantryRequire } from 'node:module'; const require = __gantryRequire(import.meta.url);" },
};
await build({ ...common, entryPoints: ['src/cli/gantry.ts'], outfile: 'dist/gantry.mjs' });
await build({ ...common, entryPoints: ['src/engine/exit-hook.ts'], outfile: 'dist/exit-hook.mjs' });
