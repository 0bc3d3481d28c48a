#!/usr/bin/env node
// Runs the compiled tests with node's test runner.
//   unit: dist/src/**/*.test.js        e2e: dist/test/e2e/*.test.js        all: both
// Tests run two files at a time (the machines have two cores); each e2e test uses its own
// temporary state root, so files never share state.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const which = process.argv[2] ?? 'all';
const find = (dir) =>
  !existsSync(dir)
    ? []
    : readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
      });
const files = [
  ...(which === 'e2e' ? [] : find('dist/src')),
  ...(which === 'unit' ? [] : find('dist/test')),
].sort();
if (files.length === 0) {
  console.error(`no test files found for "${which}" (did the build run?)`);
  process.exit(1);
}
const args = ['--test', '--test-concurrency=2', '--test-reporter=spec', ...process.argv.slice(3), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
