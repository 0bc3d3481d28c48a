// Golden files: testdata/<case>/Dockerfile parsed must equal testdata/<case>/expected.json.
// After a deliberate change, regenerate with UPDATE_GOLDEN=1 and review the diff.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../core/package-root.js';
import { parseDockerfile } from './dockerfile.js';

const dir = path.join(packageRoot(), 'src/build/dockerfile/testdata');

describe('parseDockerfile golden files', () => {
  for (const name of readdirSync(dir)) {
    it(name, () => {
      const text = readFileSync(path.join(dir, name, 'Dockerfile'), 'utf8');
      // A JSON round trip drops undefined fields, as the expected file does.
      const got: unknown = JSON.parse(JSON.stringify(parseDockerfile(text)));
      const file = path.join(dir, name, 'expected.json');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
      assert.deepEqual(got, JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});
