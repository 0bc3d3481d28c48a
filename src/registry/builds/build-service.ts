/**
 * Automated builds: a queue per repository, one build at a time in each, bounded overall (a
 * flood of webhooks gets 429, never unbounded work). A build clones the ref with the `git`
 * binary into a temporary directory under `<data>/builds/tmp`, hands the context to the
 * {@link HubBuilder} (the CLI's: gantry's builder, then a push to this hub through the real
 * registry API, so pull counts and webhooks see it), records status, times and digest, and
 * writes its log to `<data>/builds/logs/<id>.log`. Live logs go to subscribers (the SSE route).
 *
 * A failed build never moves a tag: the builder pushes only after the image was built.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ApiError } from '../api/api-error.js';
import type { BuildRow, BuildRule, HubDataStore } from '../storage/hub-data-store.js';
import type { BuildPushCredentials } from './build-credentials.js';

/** What the hub needs from gantry's builder (implemented by the CLI, which may use the engine). */
export interface HubBuilder {
  /**
   * Builds `dockerfile` in `contextDir` and pushes the image as `tag` (a full reference on this
   * hub); resolves the pushed manifest's digest. On a hub with accounts, `credentials` are what
   * the builder's registry client logs in to this hub with (build-credentials.ts).
   */
  build(req: {
    contextDir: string;
    dockerfile: string;
    tag: string;
    credentials?: { username: string; password: string };
    signal: AbortSignal;
    log: (line: string) => void;
  }): Promise<{ digest: string }>;
}

/** Options of {@link BuildService}. */
export interface BuildServiceOptions {
  store: HubDataStore;
  dataDir: string;
  builder?: HubBuilder;
  /** `127.0.0.1:PORT`: where the builder pushes (known once the hub listens). */
  registryHost: () => string;
  /** Most builds queued or running at once, all repositories together. */
  maxQueued: number;
  /**
   * With accounts: one-off credentials of an account that may push to `repository` (its
   * owner), or undefined when none may. Without accounts: absent (loopback pushes need none).
   */
  pushCredentials?: (repository: string) => BuildPushCredentials | undefined;
  log: (line: string) => void;
}

/** A build to queue. */
export interface BuildRequest {
  repository: string;
  trigger: BuildRow['trigger'];
  sourceRef: string;
  commit?: string;
  tag: string;
  rule: BuildRule;
}

type Listener = (line: string | undefined) => void;

/** The build queue; see the module comment. */
export class BuildService {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly listeners = new Map<number, Set<Listener>>();
  private readonly controller = new AbortController();
  private pending = 0;

  constructor(private readonly o: BuildServiceOptions) {
    const n = o.store.cancelUnfinishedBuilds();
    if (n > 0) o.log(`${n} build(s) left unfinished by a previous run marked canceled`);
  }

  /** True when builds can run (a builder was given). */
  get enabled(): boolean {
    return this.o.builder !== undefined;
  }

  /** Refuses with 429 when `count` more builds would overflow the queue. */
  checkRoom(count: number): void {
    if (this.pending + count > this.o.maxQueued) throw new ApiError('TOOMANYREQUESTS', `the build queue is full (${this.o.maxQueued} builds)`);
  }

  /** Queues a build; resolves its record at once. */
  enqueue(req: BuildRequest): BuildRow {
    if (!this.o.builder) throw new ApiError('INVALID', 'this hub has no builder: automated builds are off');
    this.checkRoom(1);
    const build = this.o.store.addBuild(req);
    this.live.set(build.id, []);
    this.pending++;
    const previous = this.chains.get(req.repository) ?? Promise.resolve();
    // NOTE: a build that could not even start (its log directory unwritable) is marked failed
    // and never stops the builds queued after it.
    const next = previous
      .then(() => this.run(build))
      .catch((err: unknown) => {
        this.o.log(`build ${build.id} of ${req.repository}: ${(err as Error).message}`);
        this.live.delete(build.id);
        for (const fn of this.listeners.get(build.id) ?? []) fn(undefined);
        this.listeners.delete(build.id);
        try {
          this.o.store.updateBuild(build.id, { status: 'failed', finishedMs: Date.now() });
        } catch {
          // the store closed with the hub
        }
      })
      .finally(() => {
      this.pending--;
      if (this.chains.get(req.repository) === next) this.chains.delete(req.repository);
    });
    this.chains.set(req.repository, next);
    return build;
  }

  /** The log so far: from memory while the build is live, else from its file. */
  async logText(id: number): Promise<string> {
    const lines = this.live.get(id);
    if (lines) return lines.map((l) => `${l}\n`).join('');
    return readFile(this.logPath(id), 'utf8').catch(() => '');
  }

  /**
   * For a build queued or running in this process: the lines so far, and `fn` called with each
   * new line and with undefined at the end (no line lost in between). Undefined when not live.
   */
  follow(id: number, fn: Listener): { backlog: string[]; unsubscribe: () => void } | undefined {
    const lines = this.live.get(id);
    if (!lines) return undefined;
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(fn);
    return { backlog: [...lines], unsubscribe: () => set.delete(fn) };
  }

  /** Lines of the builds queued or running in this process. */
  private readonly live = new Map<number, string[]>();

  /** Cancels running builds and waits for the queues to drain. */
  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled([...this.chains.values()]);
  }

  private logPath(id: number): string {
    return join(this.o.dataDir, 'builds', 'logs', `${id}.log`);
  }

  private async run(build: BuildRow): Promise<void> {
    const { store } = this.o;
    const lines = this.live.get(build.id) ?? [];
    await mkdir(join(this.o.dataDir, 'builds', 'logs'), { recursive: true });
    const file: WriteStream = createWriteStream(this.logPath(build.id), { flags: 'a' });
    const log = (line: string) => {
      file.write(`${line}\n`);
      lines.push(line);
      for (const fn of this.listeners.get(build.id) ?? []) fn(line);
    };
    const started = Date.now();
    let work: string | undefined;
    let creds: BuildPushCredentials | undefined;
    try {
      if (this.controller.signal.aborted) throw new Error('the hub is stopping');
      store.updateBuild(build.id, { status: 'running', startedMs: started });
      const settings = store.buildSettings(build.repository);
      if (!settings) throw new Error('the repository has no build settings');
      await mkdir(join(this.o.dataDir, 'builds', 'tmp'), { recursive: true });
      work = await mkdtemp(join(this.o.dataDir, 'builds', 'tmp', `${build.id}-`));
      const src = join(work, 'src');
      log(`cloning ${settings.cloneUrl} (${build.sourceRef}${build.commit ? ` at ${build.commit}` : ''})`);
      await this.git(['clone', '--depth', '1', '--branch', build.sourceRef, '--', settings.cloneUrl, src], work, log);
      if (build.commit) {
        const head = (await this.git(['rev-parse', 'HEAD'], src, () => undefined)).trim();
        if (head !== build.commit) {
          log(`${build.sourceRef} is at ${head}; fetching ${build.commit}`);
          await this.git(['fetch', '--depth', '1', 'origin', build.commit], src, log);
          await this.git(['checkout', '--detach', 'FETCH_HEAD'], src, log);
        }
      }
      const contextDir = inside(src, build.rule.context);
      const dockerfile = inside(src, build.rule.dockerfile);
      const tag = `${this.o.registryHost()}/${build.repository}:${build.tag}`;
      log(`building ${build.rule.dockerfile} (context ${build.rule.context}) as ${tag}`);
      if (this.o.pushCredentials) {
        creds = this.o.pushCredentials(build.repository);
        if (creds === undefined) throw new Error(`no account may push to ${build.repository}`);
      }
      const credentials = creds && { username: creds.username, password: creds.password };
      const { digest } = await (this.o.builder as HubBuilder).build({ contextDir, dockerfile, tag, credentials, signal: this.controller.signal, log });
      log(`pushed ${tag}@${digest}`);
      store.updateBuild(build.id, { status: 'success', finishedMs: Date.now(), digest });
    } catch (err) {
      const canceled = this.controller.signal.aborted;
      log(`${canceled ? 'build canceled' : 'build failed'}: ${(err as Error).message}`);
      store.updateBuild(build.id, { status: canceled ? 'canceled' : 'failed', finishedMs: Date.now() });
    } finally {
      creds?.release();
      if (work) await rm(work, { recursive: true, force: true }).catch(() => undefined);
      await new Promise<void>((done) => file.end(done));
      this.live.delete(build.id);
      for (const fn of this.listeners.get(build.id) ?? []) fn(undefined);
      this.listeners.delete(build.id);
    }
  }

  /** Runs git; resolves its stdout; its stderr goes to the log. */
  private git(args: string[], cwd: string, log: (line: string) => void): Promise<string> {
    return new Promise((done, fail) => {
      const child = spawn('git', args, {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: this.controller.signal,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', fail);
      child.on('close', (code) => {
        for (const line of err.split('\n')) if (line.trim()) log(line.trimEnd());
        if (code === 0) done(out);
        else fail(new Error(`git ${args[0]} exited with ${code}`));
      });
    });
  }
}

/** `path` (relative to the repository's root; a leading `/` means the root) resolved inside `root`. */
function inside(root: string, path: string): string {
  const p = resolve(root, `.${sep}${path.replace(/^\/+/, '')}`);
  if (p !== root && !p.startsWith(root + sep)) throw new Error(`${path} is outside the repository`);
  return p;
}
