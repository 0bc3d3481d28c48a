/**
 * The `gantry` command line: Docker's commands, flags, output and exit codes on top of the
 * engine library. This file wires commander to Docker's conventions: global flags before
 * the command, usage errors as "unknown flag: --x" with exit code 125, and every other error
 * as one `Error: ...` line with exit code 1.
 */
import { Command, CommanderError, Option } from 'commander';
import { constants } from 'node:os';
import { packageVersion } from '../core/package-root.js';
import { createContext, type CliContext } from './context.js';
import { EXIT_USAGE, exitCodeOf, renderError, UsageError } from './errors.js';
import { registerContainerCommands } from './commands/containers.js';
import { registerHubCommands } from './commands/hub.js';
import { registerImageCommands } from './commands/images.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerSearchCommand } from './commands/search.js';
import { registerSystemCommands } from './commands/system.js';
import { registerVolumeCommands } from './commands/volumes.js';


/** The command line: the program, and the context its commands share. */
export interface Cli {
  readonly program: Command;
  /** The context, once a command has asked for it. */
  context(): CliContext | undefined;
}

/**
 * Builds the program, ready to parse one command line. Building it reads nothing from the
 * environment or the disk (the context is created once the global flags are known, the
 * version is read when asked for), so the startup snapshot holds a built one (snapshot.ts).
 */
export function buildCli(): Cli {
  let ctx: CliContext | undefined;
  const program = buildProgram(() => (ctx ??= createContext(program.opts<{ root?: string }>().root)));
  return { program, context: () => ctx };
}

function buildProgram(getCtx: () => CliContext): Command {
  const program = new Command('gantry')
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .addOption(new Option('--root <dir>', 'Root directory of persistent gantry state (default "/var/lib/gantry", env GANTRY_ROOT)'))
    .addOption(new Option('-v, --version', 'Print version information and quit'))
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  program.on('option:version', () => {
    const version = `gantry version ${packageVersion()}`;
    process.stdout.write(`${version}\n`);
    throw new CommanderError(0, 'commander.version', version);
  });
  registerContainerCommands(program, getCtx);
  registerHubCommands(program, getCtx);
  registerImageCommands(program, getCtx);
  registerNetworkCommands(program, getCtx);
  registerSearchCommand(program, getCtx);
  registerSystemCommands(program, getCtx);
  registerVolumeCommands(program, getCtx);
  return program;
}

/** Translates commander's errors into Docker's usage errors. */
function usageError(err: CommanderError, argv: string[]): UsageError | undefined {
  // The command path: the leading words, after the global `--root DIR`.
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') i++;
    else if (a.startsWith('-')) continue;
    else words.push(a);
  }
  const groups = new Set(['image', 'system', 'container', 'network', 'volume', 'builder', 'manifest', 'hub']);
  const command = words.slice(0, groups.has(words[0] ?? '') ? 2 : 1).join(' ');
  const m = /'([^']+)'/.exec(err.message);
  switch (err.code) {
    case 'commander.unknownOption':
      return new UsageError(`unknown flag: ${m?.[1] ?? err.message}`, command);
    case 'commander.optionMissingArgument':
      return new UsageError(`flag needs an argument: ${m?.[1] ?? err.message}`, command);
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      return new UsageError(`"gantry ${command}" ${err.message.replace(/^error: /, '')}`, command, 1);
    case 'commander.unknownCommand':
      return new UsageError(`unknown command: ${m?.[1] ?? err.message}`, '', 1);
    case 'commander.invalidArgument':
      return new UsageError(err.message.replace(/^error: /, ''), command);
    default:
      return undefined;
  }
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. A program
 * parses one command line: pass `cli` only when it is fresh.
 */
export async function main(argv: string[], cli: Cli = buildCli()): Promise<number> {
  const { program } = cli;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.context()?.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return 0;
      }
      const usage = usageError(err, argv);
      process.stderr.write(`${renderError(usage ?? err)}\n`);
      return usage ? usage.exitCode : EXIT_USAGE;
    }
    process.stderr.write(`${renderError(err)}\n`);
    return exitCodeOf(err);
  } finally {
    cli.context()?.close();
  }
}

/**
 * Runs the CLI as the process: its exit code becomes the process's. Should the command stop
 * with its work unfinished — a promise nothing will ever settle, so the event loop runs dry —
 * it fails with exit code 1 and says so, where Node would otherwise exit 0 in silence.
 */
export async function runProcess(argv: string[], cli?: Cli): Promise<void> {
  const stranded = () => {
    process.stderr.write('Error: internal error: gantry stopped with the command unfinished (it waited for something that could never happen)\n');
    process.exitCode = 1;
  };
  process.once('beforeExit', stranded);
  // A reader that went away (`gantry ps | head`): stop quietly with SIGPIPE's status, as a
  // program that does not ignore SIGPIPE (Node does) dies of it, instead of a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(128 + constants.signals.SIGPIPE);
    });
  }
  try {
    process.exitCode = await main(argv, cli);
    // Done, with nothing left to finish but the terminal's handles (stdio writes are synchronous
    // on Linux): exit now rather than let Node tear its heap down first, about 10 ms per call.
    if (process.getActiveResourcesInfo().every((r) => r === 'TTYWrap')) process.exit();
  } finally {
    process.off('beforeExit', stranded);
  }
}
