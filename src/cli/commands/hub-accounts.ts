/**
 * `gantry hub user|org|repo`: the hub's accounts, managed on its data directory (the same
 * `accounts.db` a running hub reads, so changes take effect at once, without a restart).
 *
 *   gantry hub user create NAME [--password-stdin] [--admin]    gantry hub user ls
 *   gantry hub user passwd NAME [--password-stdin]              gantry hub user rm NAME...
 *   gantry hub org create NAME --owner USER                     gantry hub org ls
 *   gantry hub org add-member ORG USER [--role member|owner] [--pull-only]
 *   gantry hub org remove-member ORG USER                       gantry hub org rm NAME...
 *   gantry hub repo visibility NAME public|private
 *
 * A password is read from stdin with `--password-stdin` (one line) or asked twice on a terminal,
 * never taken from the command line, where `ps` and shell history would show it.
 */
import { type Command, Option } from 'commander';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { errors } from '../../core/errors.js';
import { DEFAULT_ROOT } from '../../engine/engine.js';
import type { AccountStore, MemberRole } from '../../registry/auth/account-store.js';
import type { CliContext } from '../context.js';
import { formatRows } from '../format/table.js';
import { flagError } from './run-flags-go.js';

type Ctx = () => CliContext;

interface DataFlags {
  data?: string;
}

/** Adds `user`, `org` and `repo` under the `hub` command. */
export function registerHubAccountCommands(hub: Command, getCtx: Ctx): void {
  const dataOption = () => new Option('--data <dir>', 'The hub\'s data directory (default "<gantry root>/hub")');

  const user = hub.command('user').description('Manage the hub\'s users');
  user.action(() => user.help());
  user
    .command('create')
    .description('Create a user')
    .argument('<NAME>')
    .option('--password-stdin', 'Take the password from stdin')
    .option('--admin', 'Make the user an administrator (every repository, the catalog)')
    .addOption(dataOption())
    .action((name: string, o: DataFlags & { passwordStdin?: boolean; admin?: boolean }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => {
        const password = await readPassword(ctx, o.passwordStdin);
        await store.createUser(name, password, { admin: o.admin });
        ctx.out(name);
      }),
    );
  user
    .command('passwd')
    .description('Change a user\'s password (ends the sessions of `docker login`)')
    .argument('<NAME>')
    .option('--password-stdin', 'Take the password from stdin')
    .addOption(dataOption())
    .action((name: string, o: DataFlags & { passwordStdin?: boolean }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => {
        if (!store.user(name)) throw errors.notFound(`no such user: ${name}`);
        await store.setPassword(name, await readPassword(ctx, o.passwordStdin));
      }),
    );
  user
    .command('rm')
    .alias('remove')
    .description('Remove one or more users')
    .argument('<NAME...>')
    .addOption(dataOption())
    .action((names: string[], o: DataFlags, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => eachName(ctx, names, (n) => store.deleteUser(n))),
    );
  user
    .command('ls')
    .alias('list')
    .description('List users')
    .option('--format <string>', 'Pretty-print users using a Go template')
    .option('-q, --quiet', 'Only display user names')
    .addOption(dataOption())
    .action((o: DataFlags & { format?: string; quiet?: boolean }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => {
        const rows = store.users().map((u) => ({ Name: u.name, Admin: String(u.admin), CreatedAt: u.created }));
        const format = o.quiet ? '{{.Name}}' : o.format;
        ctx.stdout.write(formatRows(format, rows, { defaultTable: 'table {{.Name}}\t{{.Admin}}\t{{.CreatedAt}}', headers: { Name: 'NAME', Admin: 'ADMIN', CreatedAt: 'CREATED AT' } }));
      }),
    );

  const org = hub.command('org').description('Manage the hub\'s organizations');
  org.action(() => org.help());
  org
    .command('create')
    .description('Create an organization')
    .argument('<NAME>')
    .requiredOption('--owner <user>', 'Its first owner (an existing user)')
    .addOption(dataOption())
    .action((name: string, o: DataFlags & { owner: string }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => {
        store.createOrganization(name, o.owner);
        ctx.out(name);
      }),
    );
  org
    .command('add-member')
    .description('Add a user to an organization, or change a member\'s role')
    .argument('<ORG>')
    .argument('<USER>')
    .option('--role <role>', 'member or owner', 'member')
    .option('--pull-only', 'The member may pull but not push')
    .addOption(dataOption())
    .action((name: string, member: string, o: DataFlags & { role: string; pullOnly?: boolean }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (_ctx, store) => {
        if (o.role !== 'member' && o.role !== 'owner') throw flagError('--role', o.role, 'must be "member" or "owner"');
        store.addMember(name, member, { role: o.role as MemberRole, push: !o.pullOnly });
      }),
    );
  org
    .command('remove-member')
    .alias('rm-member')
    .description('Remove a user from an organization')
    .argument('<ORG>')
    .argument('<USER>')
    .addOption(dataOption())
    .action((name: string, member: string, o: DataFlags, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (_ctx, store) => store.removeMember(name, member)),
    );
  org
    .command('rm')
    .alias('remove')
    .description('Remove one or more organizations (their repositories stay, pushable by admins only)')
    .argument('<NAME...>')
    .addOption(dataOption())
    .action((names: string[], o: DataFlags, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => eachName(ctx, names, (n) => store.deleteOrganization(n))),
    );
  org
    .command('ls')
    .alias('list')
    .description('List organizations and their members')
    .option('--format <string>', 'Pretty-print organizations using a Go template')
    .addOption(dataOption())
    .action((o: DataFlags & { format?: string }, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (ctx, store) => {
        const rows = store.organizations().map((g) => ({
          Name: g.name,
          Members: g.members.map((m) => `${m.user}(${m.role === 'owner' ? 'owner' : m.push ? 'push' : 'pull'})`).join(','),
          CreatedAt: g.created,
        }));
        ctx.stdout.write(formatRows(o.format, rows, { defaultTable: 'table {{.Name}}\t{{.Members}}', headers: { Name: 'NAME', Members: 'MEMBERS', CreatedAt: 'CREATED AT' } }));
      }),
    );

  const repo = hub.command('repo').description('Manage the hub\'s repositories');
  repo.action(() => repo.help());
  repo
    .command('visibility')
    .description('Make a repository public or private (it need not exist yet)')
    .argument('<NAME>', 'repository name, such as alice/web')
    .argument('<VISIBILITY>', 'public or private')
    .addOption(dataOption())
    .action((name: string, visibility: string, o: DataFlags, cmd: Command) =>
      withStore(getCtx(), cmd, o, async (_ctx, store) => {
        if (visibility !== 'public' && visibility !== 'private') {
          throw errors.invalid(`invalid visibility "${visibility}": must be "public" or "private"`);
        }
        store.setVisibility(name, visibility);
      }),
    );
}

/** The data directory: `--data`, else `hub` under the state root (`--root`, GANTRY_ROOT, the default). */
export function hubDataDir(cmd: Command, data: string | undefined): string {
  if (data) return data;
  let top = cmd;
  while (top.parent) top = top.parent;
  const root = top.opts<{ root?: string }>().root || process.env.GANTRY_ROOT || DEFAULT_ROOT;
  return join(root, 'hub');
}

/** Runs `fn` with the account store of the command's data directory, closed afterwards. */
async function withStore(ctx: CliContext, cmd: Command, o: DataFlags, fn: (ctx: CliContext, store: AccountStore) => Promise<void> | void): Promise<void> {
  // Imported here, not statically: see hubModules() in hub.ts.
  const { openAccountStore } = await import('../../registry/auth/account-store.js');
  const store = openAccountStore(hubDataDir(cmd, o.data));
  try {
    await fn(ctx, store);
  } finally {
    store.close();
  }
}

/** Docker's way with several names: each one's name printed when done, its error when not, exit 1 if any failed. */
function eachName(ctx: CliContext, names: string[], fn: (name: string) => void): void {
  for (const n of names) {
    try {
      fn(n);
      ctx.out(n);
    } catch (err) {
      ctx.err(`Error: ${(err as Error).message}`);
      ctx.fail(1);
    }
  }
}

/** The new password: one line of stdin with `--password-stdin`, else asked twice on the terminal. */
async function readPassword(ctx: CliContext, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) {
    const password = (await text(ctx.stdin)).replace(/\r?\n$/, '');
    if (!password) throw errors.invalid('Password is required');
    return password;
  }
  if (!ctx.stdin.isTTY) {
    throw errors.invalid('Cannot read a password from a non TTY device', { hint: 'pipe it in with --password-stdin' });
  }
  const first = await askSecret(ctx, 'Password: ');
  if (!first) throw errors.invalid('Password is required');
  if ((await askSecret(ctx, 'Retype password: ')) !== first) throw errors.invalid('Passwords do not match');
  return first;
}

async function askSecret(ctx: CliContext, question: string): Promise<string> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stdout, terminal: true });
  // Echo nothing while the password is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes(question)) ctx.stdout.write(question);
  };
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    ctx.stdout.write('\n');
    rl.close();
  }
}
