#!/usr/bin/env node
// Bundles the CLI and the monitor's exit hook into single ES modules (dist/gantry.mjs,
// dist/exit-hook.mjs). Node loads one file several times faster than the hundred modules of
// dist/src/, and every `gantry` call pays that load (see docs/architecture.md). Packages
// from node_modules stay external; the library entry (dist/src/index.js) is not bundled.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: 'linked' };
await build({ ...common, entryPoints: ['src/cli/gantry.ts'], outfile: 'dist/gantry.mjs' });
await build({ ...common, entryPoints: ['src/engine/exit-hook.ts'], outfile: 'dist/exit-hook.mjs' });
