/**
 * The entry point of the bundled `gantry` command (dist/gantry.mjs): runs the CLI with the
 * process's arguments and exits with its code.
 */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
