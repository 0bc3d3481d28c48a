/**
 * Talking to registries: pull, push, login, logout and manifest inspect, with Docker's flags,
 * output lines and exit codes.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { errors } from '../../core/errors.js';
import { familiarString, normalizeReference, parseReference, type Reference } from '../../core/reference.js';
import { parsePlatform } from '../../core/platform.js';
import type { CliContext } from '../context.js';
import { progressRenderer } from '../progress.js';

type Ctx = () => CliContext;

const HUB = 'docker.io';

/** Adds pull, push, login, logout (top level and under `image`) and `manifest inspect`. */
export function registerDistributionCommands(program: Command, image: Command, getCtx: Ctx): void {
  for (const parent of [program, image]) {
    parent
      .command('pull')
      .description('Download an image from a registry')
      .argument('<NAME[:TAG|@DIGEST]>')
      .option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('--platform <platform>', 'Set platform if server is multi-platform capable')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--progress <type>', 'Set type of progress output ("auto", "plain")', 'auto')
      .option('--disable-content-trust', 'Skip image verification (default true)')
      .action(async (name: string, o: { allTags?: boolean; platform?: string; quiet?: boolean; progress: string }) => {
        const ctx = getCtx();
        await pullCommand(ctx, name, o);
      });

    parent
      .command('push')
      .description('Upload an image to a registry')
      .argument('<NAME[:TAG]>')
      .option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--progress <type>', 'Set type of progress output ("auto", "plain")', 'auto')
      .option('--disable-content-trust', 'Skip image signing (default true)')
      .action(async (name: string, o: { allTags?: boolean; quiet?: boolean; progress: string }) => {
        await pushCommand(getCtx(), name, o);
      });
  }

  program
    .command('login')
    .description('Log in to a registry.\nIf no server is specified, the default is defined by the daemon.')
    .argument('[SERVER]')
    .option('-u, --username <username>', 'Username')
    .option('-p, --password <password>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .action(async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      await loginCommand(getCtx(), server, o);
    });

  program
    .command('logout')
    .description('Log out from a registry.\nIf no server is specified, the default is defined by the daemon.')
    .argument('[SERVER]')
    .action(async (server: string | undefined) => {
      const ctx = getCtx();
      const host = registryHost(server);
      const { key, removed } = await ctx.engine().logout(host);
      const shown = server ? host : key;
      ctx.out(removed ? `Removing login credentials for ${shown}` : `Not logged in to ${shown}`);
    });

  const manifest = program.command('manifest').description('Manage Docker image manifests and manifest lists');
  manifest
    .command('inspect')
    .description('Display an image manifest, or manifest list')
    .argument('<MANIFEST_LIST>')
    .argument('[MANIFEST]')
    .option('-v, --verbose', 'Output additional info including layers and platform')
    .option('--insecure', 'Allow communication with an insecure registry')
    .action(async (list: string, single: string | undefined, o: { verbose?: boolean }) => {
      const ctx = getCtx();
      const name = single ?? list;
      const ref = normalizeReference(name);
      const fetched = await ctx.engine().remoteManifest(ref);
      const parsed = JSON.parse(fetched.bytes.toString('utf8')) as Record<string, unknown>;
      if (!o.verbose) {
        ctx.out(JSON.stringify(parsed, null, '\t'));
        return;
      }
      ctx.out(
        JSON.stringify(
          {
            Ref: familiarString(ref).includes('/') ? `${ref.domain}/${ref.path}:${ref.tag ?? ''}`.replace(/:$/, '') : familiarString(ref),
            Descriptor: { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length },
            Raw: fetched.bytes.toString('base64'),
            [fetched.mediaType.includes('oci') ? 'OCIManifest' : 'SchemaV2Manifest']: parsed,
          },
          null,
          '\t',
        ),
      );
    });
}

interface PullFlags {
  allTags?: boolean;
  platform?: string;
  quiet?: boolean;
  progress: string;
  /** Print the full reference as the last line (the `pull` command does; `run` does not). */
  trailingName?: boolean;
}

/** `pull`, also used by `run --pull` (which shows its progress on stderr). */
export async function pullCommand(ctx: CliContext, name: string, o: PullFlags, out: NodeJS.WriteStream = ctx.stdout): Promise<void> {
  const platform = o.platform ? parsePlatform(o.platform) : undefined;
  let ref: Reference = parseReference(name);
  if (o.allTags && (ref.tag || ref.digest)) throw errors.invalid('tag can\'t be used with --all-tags/-a');
  const write = (line: string) => void out.write(`${line}\n`);
  const engine = ctx.engine();
  const tags = o.allTags ? await engine.remoteTags(name) : [ref.tag ?? (ref.digest ? undefined : 'latest')];
  if (!ref.tag && !ref.digest && !o.allTags && !o.quiet) write('Using default tag: latest');
  if (o.allTags && !o.quiet) write(`Pulling all tags of ${familiarString(ref)}`);
  for (const tag of tags) {
    ref = { ...ref, tag };
    const progress = progressRenderer(out, { quiet: o.quiet, plain: true, forcePlain: o.progress === 'plain' });
    const result = await engine.pull(familiarString(ref), { platform }, { progress });
    if (!o.quiet) {
      write(`Digest: ${result.digest}`);
      write(`Status: ${result.downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(ref)}`);
    }
    if ((!o.allTags || o.quiet) && o.trailingName !== false) write(result.reference);
  }
  if (o.allTags && !o.quiet) write(`${familiarString({ ...ref, tag: undefined })}`);
}

async function pushCommand(ctx: CliContext, name: string, o: { allTags?: boolean; quiet?: boolean; progress: string }): Promise<void> {
  const engine = ctx.engine();
  const ref = parseReference(name);
  if (o.allTags && ref.tag) throw errors.invalid('tag can\'t be used with --all-tags/-a');
  const repo = `${ref.domain}/${ref.path}`;
  let names: string[];
  if (o.allTags) {
    names = engine.images.localTags(repo);
    if (names.length === 0) throw errors.notFound(`An image does not exist locally with the tag: ${familiarString(ref)}`);
  } else {
    if (!ref.tag && !o.quiet) ctx.out('Using default tag: latest');
    names = [familiarString(normalizeReference(name))];
  }
  if (!o.quiet) ctx.out(`The push refers to repository [${repo}]`);
  for (const n of names) {
    const progress = progressRenderer(ctx.stdout, { quiet: o.quiet, plain: true, forcePlain: o.progress === 'plain' });
    const result = await engine.push(n, { progress });
    if (o.quiet) ctx.out(familiarString(normalizeReference(n)));
    else ctx.out(`${result.tag}: digest: ${result.digest} size: ${result.size}`);
  }
}

async function loginCommand(ctx: CliContext, server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }): Promise<void> {
  if (o.password !== undefined && o.passwordStdin) throw errors.invalid('--password and --password-stdin are mutually exclusive');
  if (o.passwordStdin && !o.username) throw errors.invalid('Must provide --username with --password-stdin');
  const host = registryHost(server);
  const engine = ctx.engine();
  let { username, password } = o;
  if (o.password !== undefined) ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  if (o.passwordStdin) password = (await text(ctx.stdin)).replace(/\r?\n$/, '');
  if (username === undefined && password === undefined) {
    const stored = await engine.storedCredentials(host);
    if (stored) {
      ctx.out('Authenticating with existing credentials...');
      username = stored.username;
      password = stored.password;
    }
  }
  if (username === undefined || password === undefined) {
    if (!ctx.stdin.isTTY) throw errors.invalid('Cannot perform an interactive login from a non TTY device');
    username ??= await prompt(ctx, 'Username: ', false);
    password ??= await prompt(ctx, 'Password: ', true);
  }
  if (!username) throw errors.invalid('Username is required');
  if (!password) throw errors.invalid('Password is required');
  const { storedIn } = await engine.login(host, { username, password });
  if (storedIn) {
    ctx.out(`WARNING! Your password will be stored unencrypted in ${storedIn}.`);
    ctx.out('Configure a credential helper to remove this warning. See');
    ctx.out('https://docs.docker.com/engine/reference/commandline/login/#credentials-store');
    ctx.out('');
  }
  ctx.out('Login Succeeded');
}

/** The registry host of a `login`/`logout` argument: "docker.io" by default; URLs lose scheme and path. */
function registryHost(server: string | undefined): string {
  if (!server) return HUB;
  const host = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? HUB : host;
}

async function prompt(ctx: CliContext, question: string, secret: boolean): Promise<string> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stdout, terminal: true });
  if (secret) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) ctx.stdout.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (secret) ctx.stdout.write('\n');
    rl.close();
  }
}
