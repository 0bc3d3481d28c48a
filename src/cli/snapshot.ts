/**
 * The entry point of gantry's startup snapshot (dist/gantry.blob): `node --build-snapshot`
 * runs this file once at build time, with every module of the CLI loaded and initialised, and
 * saves the heap. `node --snapshot-blob dist/gantry.blob ARGS` then starts from that heap and
 * calls the function below, skipping the loading and compiling that `dist/gantry.mjs` costs
 * on every call. Nothing here may read the environment, the clock or files at load time:
 * that would be frozen into the snapshot (see docs/architecture.md).
 */
import { startupSnapshot } from 'node:v8';
import { buildCli, runProcess } from './main.js';

// The program with its few hundred commands and flags, built once here rather than on every
// call (10 ms on a slow host); the process parses its one command line with it.
const cli = buildCli();

startupSnapshot.setDeserializeMainFunction(async () => {
  // Started as `node --snapshot-blob BLOB ARGS...`: the arguments follow node's path.
  await runProcess(process.argv.slice(1), cli);
});
