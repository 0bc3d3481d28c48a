/**
 * The entry point of gantry's startup snapshot (dist/gantry.blob): `node --build-snapshot`
 * runs this file once at build time, with every module of the CLI loaded and initialised, and
 * saves the heap. `node --snapshot-blob dist/gantry.blob ARGS` then starts from that heap and
 * calls the function below, skipping the loading and compiling that `dist/gantry.mjs` costs
 * on every call. Nothing here may read the environment, the clock or files at load time:
 * that would be frozen into the snapshot (see docs/architecture.md).
 */
import { startupSnapshot } from 'node:v8';
import { runProcess } from './main.js';

startupSnapshot.setDeserializeMainFunction(async () => {
  // Started as `node --snapshot-blob BLOB ARGS...`: the arguments follow node's path.
  await runProcess(process.argv.slice(1));
});
