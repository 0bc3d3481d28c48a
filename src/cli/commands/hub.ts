/**
 * The hub commands: `hub serve` runs gantry's registry server in the foreground until
 * SIGINT/SIGTERM; `hub gc` removes what no manifest references from its data directory,
 * while it serves or not. Both read the same configuration file (docs/hub-config.md).
 *
 * `hub serve` also gives the hub its builder for automated builds: the engine of this gantry
 * root builds the cloned context and pushes the image to the hub through its registry API (so
 * the push counts, fires webhooks and is checked like any other). The hub itself may not
 * import the engine (layering), hence the narrow `HubBuilder` it takes.
 */
import type { Command } from 'commander';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngine, DEFAULT_ROOT, type Engine } from '../../engine/engine.js';
import type { HubBuilder } from '../../registry/builds/build-service.js';
import type { HubConfig } from '../../registry/config.js';
import { buildProgressRenderer } from '../build-progress.js';
import type { CliContext } from '../context.js';
import { registerHubAccountCommands } from './hub-accounts.js';
import { humanSize } from '../format/units.js';

type Ctx = () => CliContext;

interface CommonOpts {
  data?: string;
  config?: string;
}

/** Adds `hub serve` and `hub gc`. */
export function registerHubCommands(program: Command, getCtx: Ctx): void {
  const hub = program.command('hub').description("Run gantry's registry server (the hub)");
  hub.action(() => hub.help());
  registerHubAccountCommands(hub, getCtx);

  hub
    .command('serve')
    .description('Serve the OCI distribution API (push and pull) in the foreground')
    .option('--listen <host:port>', 'Address to listen on (default "127.0.0.1:5000", or http.addr of the config)')
    .option('--data <dir>', 'Data directory (default "<gantry root>/hub", or storage.dir of the config)')
    .option('--config <file>', 'Configuration file (YAML)')
    .action(async (o: CommonOpts & { listen?: string }, cmd: Command) => serve(getCtx(), o, rootOf(cmd)));

  hub
    .command('gc')
    .description('Remove blobs (and, if asked, manifests) that nothing references')
    .option('--dry-run', 'List what would be removed, remove nothing')
    .option('--delete-untagged', 'Also remove manifests that no tag reaches')
    .option('--grace-period <duration>', 'Keep what is younger than this (default "1h", or gc.graceperiod of the config)')
    .option('--data <dir>', 'Data directory (default "<gantry root>/hub", or storage.dir of the config)')
    .option('--config <file>', 'Configuration file (YAML)')
    .action(async (o: CommonOpts & { dryRun?: boolean; deleteUntagged?: boolean; gracePeriod?: string }, cmd: Command) => gc(getCtx(), o, rootOf(cmd)));
}

/**
 * The hub's modules, imported when a hub command runs. Imported statically they would be
 * initialised in the CLI's startup snapshot, a third of its heap, which every `gantry` call
 * restores (8 ms); the hub commands run from the bundle anyway (bin/gantry).
 */
async function hubModules() {
  const [config, authConfig, tokens, gc, hub] = await Promise.all([
    import('../../registry/config.js'),
    import('../../registry/auth/auth-config.js'),
    import('../../registry/auth/token-authorizer.js'),
    import('../../registry/gc.js'),
    import('../../registry/hub.js'),
  ]);
  return { ...config, ...authConfig, ...tokens, ...gc, ...hub };
}

/** The gantry root: `--root`, else GANTRY_ROOT, else the default. */
function rootOf(cmd: Command): string {
  const root = cmd.optsWithGlobals<{ root?: string }>().root;
  return resolve(root || process.env.GANTRY_ROOT || DEFAULT_ROOT);
}

async function readConfig(path: string | undefined): Promise<HubConfig> {
  return path === undefined ? {} : (await hubModules()).loadHubConfig(path);
}

function dataDirOf(o: CommonOpts, config: HubConfig, root: string): string {
  return resolve(o.data ?? config.storage?.dir ?? join(root, 'hub'));
}

async function serve(ctx: CliContext, o: CommonOpts & { listen?: string }, root: string): Promise<void> {
  const { resolveHubConfig, parseAuthConfig, createTokenAuthorizer, startHub } = await hubModules();
  const config = await readConfig(o.config);
  const resolved = resolveHubConfig(config);
  const dataDir = dataDirOf(o, config, root);
  // Accounts and tokens when the config has an auth section; else anonymous pull, loopback push.
  const auth = parseAuthConfig(config.auth);
  await mkdir(dataDir, { recursive: true });
  const authorizer = auth ? await createTokenAuthorizer({ dataDir, config: auth }) : undefined;
  let hub;
  try {
    hub = await startHub({
      listen: o.listen ?? resolved.listen,
      dataDir,
      config,
      authorizer,
      log: (line) => ctx.err(`hub: ${line}`),
      builder: engineBuilder(ctx, root, dataDir),
    });
  } catch (err) {
    await authorizer?.close?.();
    throw err;
  }
  ctx.out(`gantry hub listening on ${hub.url} (data: ${dataDir})`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void hub.close().then(done, (err: unknown) => {
        ctx.err(`hub: close: ${(err as Error).message}`);
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Automated builds on this gantry root's engine: build, then push to the hub. With credentials
 * (a hub with accounts), the build gets an engine of its own whose Docker configuration (a
 * temporary directory) holds only them, for the hub, so neither the user's
 * `~/.docker/config.json` nor another build's credentials are involved.
 */
function engineBuilder(ctx: CliContext, root: string, dataDir: string): HubBuilder {
  return {
    async build({ contextDir, dockerfile, tag, credentials, signal, log }) {
      let engine: Engine = ctx.engine();
      let own: { engine: Engine; dir: string } | undefined;
      if (credentials !== undefined) {
        await mkdir(join(dataDir, 'builds', 'tmp'), { recursive: true });
        const dir = await mkdtemp(join(dataDir, 'builds', 'tmp', 'docker-config-'));
        const host = tag.slice(0, tag.indexOf('/'));
        const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
        await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
        engine = createEngine({ root, env: { ...process.env, DOCKER_CONFIG: dir } });
        own = { engine, dir };
      }
      try {
        return await buildAndPush(engine, { contextDir, dockerfile, tag, signal, log });
      } finally {
        if (own) {
          own.engine.close();
          await rm(own.dir, { recursive: true, force: true });
        }
      }
    },
  };
}

/** Builds with the engine, its progress as plain log lines, then pushes `tag`. */
async function buildAndPush(
  engine: Engine,
  { contextDir, dockerfile, tag, signal, log }: { contextDir: string; dockerfile: string; tag: string; signal: AbortSignal; log: (line: string) => void },
): Promise<{ digest: string }> {
  let partial = '';
  const out = {
    write(s: string) {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) log(line);
      return true;
    },
  };
  const progress = buildProgressRenderer(out, { mode: 'plain' });
  try {
    await engine.build({ context: contextDir, file: dockerfile, tags: [tag] }, (e) => progress.sink(e), signal);
  } finally {
    progress.finish();
    if (partial) log(partial);
  }
  log(`pushing ${tag}`);
  const pushed = await engine.push(tag, { signal });
  return { digest: pushed.digest };
}

async function gc(ctx: CliContext, o: CommonOpts & { dryRun?: boolean; deleteUntagged?: boolean; gracePeriod?: string }, root: string): Promise<void> {
  const { resolveHubConfig, collectHubGarbage, parseDuration } = await hubModules();
  const config = await readConfig(o.config);
  const resolved = resolveHubConfig(config);
  const dataDir = dataDirOf(o, config, root);
  const dryRun = o.dryRun === true;
  const report = await collectHubGarbage(dataDir, {
    dryRun,
    deleteUntagged: o.deleteUntagged === true,
    gracePeriodMs: o.gracePeriod === undefined ? resolved.gcGracePeriodMs : parseDuration(o.gracePeriod),
    uploadAgeMs: resolved.uploadPurging.enabled ? resolved.uploadPurging.ageMs : undefined,
  });
  const verb = dryRun ? 'would delete' : 'deleted';
  for (const m of report.manifests) ctx.out(`${verb} manifest ${m.repository}@${m.digest}`);
  for (const b of report.blobs) ctx.out(`${verb} blob ${b.digest} (${humanSize(b.size)})`);
  const uploads = dryRun ? '' : `, ${report.uploads} abandoned upload(s)`;
  ctx.out(`${report.marked} blob(s) in use; ${verb} ${report.manifests.length} manifest(s), ${report.blobs.length} blob(s) (${humanSize(report.bytes)})${uploads}`);
}
