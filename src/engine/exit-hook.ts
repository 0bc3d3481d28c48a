/**
 * The program conmon runs when a container exits (`--exit-command`):
 * `node exit-hook.js <root> <container-id> <run-number>`. It records how the run ended,
 * tears it down, and applies the restart policy and `--rm`, so that all of this happens
 * without a daemon and even when no gantry command is running.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from './engine.js';

const [root, id, gen] = process.argv.slice(2);
if (!root || !id || !gen) {
  process.stderr.write('usage: exit-hook.js ROOT CONTAINER-ID RUN-NUMBER\n');
  process.exit(2);
}
// A state root deleted meanwhile (e.g. a test's) is not re-created by a late hook.
if (!existsSync(join(root, 'gantry.db'))) process.exit(0);
const engine = Engine.open({ root });
try {
  await engine.containers.monitorExit(id, Number(gen));
} catch (err) {
  // conmon discards our stdio: leave a trace next to the state.
  appendFileSync(join(root, 'exit-hook.log'), `${new Date().toISOString()} ${id} ${gen}: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  engine.close();
}
