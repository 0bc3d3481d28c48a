#!/usr/bin/env node
// The gantry command. The CLI lives in dist/src/cli (compiled from src/cli by `npm run build`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
