/**
 * The entry point of the bundled `gantry` command (dist/gantry.mjs): runs the CLI with the
 * process's arguments and exits with its code.
 */
import { runProcess } from './main.js';

await runProcess(process.argv.slice(2));
