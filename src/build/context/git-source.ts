/**
 * Build contexts from git repositories: `gantry build https://host/repo.git#ref:subdir`.
 *
 * What counts as a git URL and how the fragment reads are docker/cli's rules
 * (pkg/urlutil.IsGitURL, cli/command/image/build/internal/git); the clone follows them too
 * (init + fetch of one ref at depth 1 + checkout + recursive submodules at depth 1), with
 * BuildKit's choices where the two differ: no ref means the remote's HEAD (docker/cli's
 * classic builder took `master`), `ssh://` URLs are git URLs, and a commit that cannot be
 * fetched by itself is looked for in a full fetch.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errors, GantryError, isErrno, type ErrorCode } from '../../core/errors.js';

/** A git context split into what to fetch and where to look in it. */
export interface GitContextRef {
  /** The repository URL, without the fragment. */
  remote: string;
  /** Branch, tag, commit or other ref; undefined for the remote's HEAD. */
  ref?: string;
  /** Directory inside the checkout used as the context; undefined for its root. */
  subdir?: string;
}

/** Options of {@link cloneGitContext}. */
export interface CloneOptions {
  /** Where the temporary checkout is made. */
  tempDir: string;
  signal?: AbortSignal;
}

/** A checkout made by {@link cloneGitContext}: `root` is removed by the caller, `dir` is in it. */
export interface GitCheckout {
  root: string;
  dir: string;
}

// NOTE: the dot is unescaped in docker/cli's expression too ("https://h/xgit" matches); kept.
const GIT_SUFFIX = /.git(?:#.+)?$/;
const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const SHORT_COMMIT = /^[0-9a-f]{7,64}$/;

/**
 * True when docker/cli would treat `arg` as a git repository: an http(s) URL ending in `.git`
 * (before an optional `#fragment`), or anything starting with `git://`, `github.com/` or
 * `git@`. gantry adds `ssh://` (as BuildKit) and `file://` (local repositories, and tests).
 */
export function isGitUrl(arg: string): boolean {
  if (/^https?:\/\//.test(arg) && GIT_SUFFIX.test(arg)) return true;
  return ['git://', 'github.com/', 'git@', 'ssh://', 'file://'].some((p) => arg.startsWith(p));
}

/**
 * Splits a git context into remote, ref and subdirectory: `URL#ref:subdir`, each part
 * optional; `github.com/x/y` gets `https://`. Throws INVALID_ARGUMENT for a ref starting with
 * `-` (it would be read as an option of git) or a URL that does not parse.
 */
export function parseGitUrl(arg: string): GitContextRef {
  let url = arg;
  if (!url.startsWith('git@') && !/^(?:git|https?|ssh|file):\/\//.test(url)) url = `https://${url}`;
  const hash = url.indexOf('#');
  const remote = hash < 0 ? url : url.slice(0, hash);
  let fragment = hash < 0 ? '' : url.slice(hash + 1);
  if (!remote.startsWith('git@')) {
    try {
      new URL(remote);
      fragment = decodeURIComponent(fragment); // Go's url.Parse unescapes the fragment
    } catch (err) {
      throw cloneError('INVALID_ARGUMENT', `invalid git URL ${JSON.stringify(arg)}`, err);
    }
  }
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (ref.startsWith('-')) throw cloneError('INVALID_ARGUMENT', `invalid refspec: ${ref}`);
  const out: GitContextRef = { remote };
  if (ref !== '') out.ref = ref;
  if (subdir !== '') out.subdir = subdir;
  return out;
}

/** Docker's wrapping of every clone failure, as one line. */
function cloneError(code: ErrorCode, message: string, cause?: unknown, hint?: string): GantryError {
  const options = { ...(cause === undefined ? {} : { cause }), ...(hint === undefined ? {} : { hint }) };
  return new GantryError(code, `unable to prepare context: unable to 'git clone' to temporary context directory: ${message}`, options);
}

/** git's complaint in one line: its `fatal:`/`error:` lines, else its last line. */
function gitReason(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const bad = lines.filter((l) => /^(?:fatal|error):/.test(l));
  return (bad.length > 0 ? bad : lines.slice(-1)).join('; ') || 'git failed';
}

/**
 * Runs git in `dir`. Like docker/cli: protocol.file.allow=never (a remote repository's
 * submodules must not read the host's files) and GIT_PROTOCOL_FROM_USER=0; a `file://` remote,
 * which the user named, may use the file protocol. Never prompts for credentials.
 */
function git(dir: string, args: string[], allowFile: boolean, signal?: AbortSignal): Promise<void> {
  const argv = ['-c', `protocol.file.allow=${allowFile ? 'always' : 'never'}`, ...args];
  const env = { ...process.env, GIT_PROTOCOL_FROM_USER: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  return new Promise((resolve, reject) => {
    execFile('git', argv, { cwd: dir, env, signal, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      if (isErrno(err, 'ENOENT')) {
        return reject(errors.precondition(`unable to prepare context: unable to find 'git': exec: "git": executable file not found in $PATH`, {
          hint: 'install git to build from a git repository',
        }));
      }
      (err as Error & { output?: string }).output = gitReason(`${stdout}\n${stderr}`);
      reject(err);
    });
  });
}

/** The one-line reason of a failed {@link git} call. */
const reasonOf = (err: unknown) => (err as { output?: string }).output ?? (err instanceof Error ? err.message : String(err));

/**
 * Clones `ref` shallowly into a new directory under `options.tempDir` and returns the checkout
 * and the context directory in it. On failure nothing is left behind. Errors are worded as
 * docker/cli's: "unable to prepare context: unable to 'git clone' to temporary context
 * directory: error fetching: ...".
 */
export async function cloneGitContext(ref: GitContextRef, options: CloneOptions): Promise<GitCheckout> {
  const { signal } = options;
  const root = await mkdtemp(join(options.tempDir, 'gantry-build-git-'));
  const allowFile = ref.remote.startsWith('file://');
  const run = (args: string[]) => git(root, args, allowFile, signal);
  try {
    await run(['init', '-q']);
    await run(['remote', 'add', 'origin', ref.remote]);
    const want = ref.ref ?? 'HEAD';
    let checkout = 'FETCH_HEAD';
    try {
      await run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', '--', want]);
    } catch (err) {
      // A commit the server will not send by itself, or an abbreviated one: look for it in
      // everything (BuildKit's fallback).
      if (signal?.aborted || !SHORT_COMMIT.test(want)) throw cloneError('UNAVAILABLE', `error fetching: ${reasonOf(err)}`, err);
      try {
        await run(['fetch', '-q', '--tags', 'origin']);
      } catch (err2) {
        throw cloneError('UNAVAILABLE', `error fetching: ${reasonOf(err2)}`, err2);
      }
      checkout = want;
    }
    try {
      await run(['checkout', '-q', '--detach', checkout]);
    } catch (err) {
      const code = FULL_COMMIT.test(want) || SHORT_COMMIT.test(want) ? 'NOT_FOUND' : 'INTERNAL';
      throw cloneError(code, `error checking out ${want}: ${reasonOf(err)}`, err);
    }
    try {
      await run(['submodule', 'update', '-q', '--init', '--recursive', '--depth=1']);
    } catch (err) {
      throw cloneError('UNAVAILABLE', `error initializing submodules: ${reasonOf(err)}`, err);
    }
    return { root, dir: await contextDir(root, ref.subdir) };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    if (signal?.aborted) throw errors.canceled();
    throw err;
  }
}

/** `subdir` of the checkout, symlinks resolved, refused when it leaves the checkout or is not a directory. */
async function contextDir(root: string, subdir: string | undefined): Promise<string> {
  if (subdir === undefined) return root;
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const notWithin = () => cloneError('INVALID_ARGUMENT', `error setting git context, ${JSON.stringify(subdir)} not within git root`);
  if (!inside(join(realRoot, subdir))) throw notWithin();
  let dir: string;
  try {
    dir = await realpath(join(realRoot, subdir));
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    throw cloneError('NOT_FOUND', `error setting git context, subdirectory ${JSON.stringify(subdir)} does not exist`, err);
  }
  const gitDir = join(realRoot, '.git');
  if (!inside(dir) || dir === gitDir || dir.startsWith(gitDir + sep)) throw notWithin();
  if (!(await stat(dir)).isDirectory()) {
    throw cloneError('INVALID_ARGUMENT', `error setting git context, not a directory: ${subdir}`);
  }
  return dir;
}
