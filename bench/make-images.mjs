#!/usr/bin/env node
// Creates N distinct one-layer images (bench-N:<i>) in a gantry state root through the library,
// for the `gantry images` scaling benchmark. Usage: node bench/make-images.mjs ROOT N
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { createEngine } from '../dist/src/index.js';

const [root, count] = [process.argv[2], Number(process.argv[3])];
const engine = createEngine({ root });
for (let i = 0; i < count; i++) {
  const p = pack();
  p.entry({ name: `file-${i}.txt`, mtime: new Date(0) }, `image ${i}\n`);
  p.finalize();
  await engine.importImage(Readable.from(p, { objectMode: false }), { reference: `bench-${count}:${i}`, created: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() });
}
engine.close();
