import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { metadataStoreSuite } from './metadata-store.suite.js';
import type { MetadataStore } from './metadata-store.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';

const opened: { dir: string; store: MetadataStore }[] = [];
after(async () => {
  for (const { dir, store } of opened) {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

metadataStoreSuite('SqliteMetadataStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-hub-meta-'));
  const store = new SqliteMetadataStore(dir);
  opened.push({ dir, store });
  return store;
});
