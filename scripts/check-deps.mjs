#!/usr/bin/env node
// Dependency rules of docs/architecture.md, checked on every `npm test`:
//  1. a module imports only from its own layer or the layers below it;
//  2. front ends (cli/, api/) reach the engine and core only, never the services behind it
//     (the CLI may also start the hub: `gantry hub serve` and `gantry hub gc` call registry/);
//  3. the hub (registry/) never imports the engine;
//  4. no import cycles between files.
// Unit tests (*.test.ts) may also import test/support/, which is outside the layers.
// Reads import specifiers from src/**/*.ts as text; exits 1 listing every violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(process.argv[2] ?? 'src');
const RANK = {
  core: 0,
  native: 1, content: 1, snapshots: 1, metadata: 1, runtime: 1,
  images: 2, containers: 2, build: 2, distribution: 2, network: 2, volumes: 2,
  registry: 3, engine: 3,
  cli: 4, api: 4, compose: 4, 'index.ts': 5,
};
const FRONT_ENDS = new Set(['cli', 'api', 'compose']);

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}
const top = (file) => relative(SRC, file).split('/')[0];
const files = walk(SRC);
const problems = [];
const graph = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
  const edges = [];
  for (const spec of specs) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    // Unit tests may use the shared test helpers in test/support (outside the layers).
    if (file.endsWith('.test.ts') && relative(SRC, target).startsWith('../test/support/')) continue;
    edges.push(target);
    const [from, to] = [top(file), top(target)];
    if (from === to) continue;
    const rf = RANK[from], rt = RANK[to];
    const where = `${relative(SRC, file)} -> ${relative(SRC, target)}`;
    if (rf === undefined) problems.push(`unknown layer "${from}" (add it to scripts/check-deps.mjs): ${where}`);
    else if (rt === undefined) problems.push(`unknown layer "${to}": ${where}`);
    else if (rt > rf) problems.push(`upward import (${from} is below ${to}): ${where}`);
    else if (FRONT_ENDS.has(from) && !['engine', 'core'].includes(to) && !(from === 'cli' && to === 'registry')) problems.push(`front end reaches past the engine: ${where}`);
    else if (from === 'registry' && to === 'engine') problems.push(`the hub must not import the engine: ${where}`);
  }
  graph.set(file, edges);
}
// Cycle detection (iterative DFS with colours).
const colour = new Map();
for (const start of files) {
  if (colour.get(start)) continue;
  const stack = [[start, 0]];
  const path = [];
  while (stack.length) {
    const frame = stack[stack.length - 1];
    const [node, i] = frame;
    if (i === 0) { colour.set(node, 1); path.push(node); }
    const edges = graph.get(node) ?? [];
    if (i < edges.length) {
      frame[1]++;
      const next = edges[i];
      if (colour.get(next) === 1) {
        const cyc = path.slice(path.indexOf(next)).concat(next).map((f) => relative(SRC, f));
        problems.push(`import cycle: ${cyc.join(' -> ')}`);
      } else if (!colour.get(next) && graph.has(next)) stack.push([next, 0]);
    } else {
      colour.set(node, 2);
      path.pop();
      stack.pop();
    }
  }
}
if (problems.length) {
  for (const p of problems) console.error(`deps: ${p}`);
  process.exit(1);
}
console.log(`deps: ${files.length} files, layering and acyclicity hold`);
