/**
 * `.dockerignore`: which paths of a build context are left out.
 * https://docs.docker.com/build/concepts/context/#dockerignore-files
 *
 * Vocabulary: a pattern *excludes* what it matches; an *exception* (`!pattern`) re-includes
 * it; of all the patterns that match a path, the last one decides. A pattern also matches
 * everything below a directory it matches (`dir` excludes `dir/a/b`), exceptions included
 * (`!dir` re-includes `dir/a`). The root of the context is never excluded.
 *
 * File lookup (BuildKit's): for `-f path/to/Foo.Dockerfile`, `path/to/Foo.Dockerfile.dockerignore`
 * when it exists, else `<context>/.dockerignore`. The `.dockerignore` and the Dockerfile are
 * always sent, as the Docker CLI does by appending exceptions for them.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isErrno } from '../../core/errors.js';
import { cleanPath, compilePattern, escapePattern, type IgnorePattern } from './ignore-pattern.js';

export { cleanPath, type IgnorePattern } from './ignore-pattern.js';

/**
 * The pattern lines of a `.dockerignore` text, as patternmatcher's `ignorefile.ReadAll` reads
 * them: a UTF-8 BOM dropped, `#` lines (the `#` in column one) skipped, each line trimmed,
 * blank lines skipped, the pattern after an optional `!` cleaned and stripped of a leading `/`.
 */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (rawLine.startsWith('#')) continue;
    let line = rawLine.trim();
    if (line === '') continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    if (line !== '') {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(exception ? `!${line}` : line);
  }
  return out;
}

/** Cleans a context-relative path for matching: `./a//b/` and `/a/b` are `a/b`, the root `.`. */
function normalize(relPath: string): string {
  const p = cleanPath(relPath);
  return p.length > 1 && p.startsWith('/') ? p.slice(1) : p === '/' ? '.' : p;
}

/**
 * Decides which paths of a context are excluded. Immutable; safe to share between walkers.
 */
export class IgnoreMatcher {
  /** The compiled patterns, in file order. */
  readonly patterns: readonly IgnorePattern[];

  /** Compiles `patterns` (lines as {@link parseDockerignore} returns them); throws INVALID_ARGUMENT on a bad one. */
  constructor(private readonly lines: readonly string[] = []) {
    this.patterns = lines.map(compilePattern).filter((p): p is IgnorePattern => p !== undefined);
  }

  /** True when some pattern is an exception (`!`). */
  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exception);
  }

  /**
   * True when the context-relative `relPath` is excluded. `isDir` is accepted so that callers
   * state what they hold, but changes nothing: as in Docker, a trailing `/` in a pattern is
   * cleaned away, so patterns match files and directories alike.
   */
  matches(relPath: string, _isDir = false): boolean {
    const path = normalize(relPath);
    if (path === '.') return false; // NOTE: Docker never lets a pattern exclude the whole context.
    const parts = path.split('/');
    const parents: string[] = [];
    for (let n = 1; n < parts.length; n++) parents.push(parts.slice(0, n).join('/'));
    let matched = false;
    for (const pattern of this.patterns) {
      // An exclusion can change nothing once matched, an exception nothing until then.
      if (pattern.exception !== matched) continue;
      if (pattern.test(path) || parents.some((parent) => pattern.test(parent))) matched = !pattern.exception;
    }
    return matched;
  }

  /**
   * False only when nothing strictly below the directory `dirRelPath` can be included, so that
   * a walker may skip an excluded directory without reading it. True for a directory that is
   * not excluded, and whenever an exception could match a path below it (conservatively: an
   * exception with `**` or a character class where the directory's names are compared).
   *
   * Sound because a child matches every pattern its directory matches: it can only end up
   * included through an exception that matches a path below the directory.
   */
  mayContainIncluded(dirRelPath: string): boolean {
    const path = normalize(dirRelPath);
    if (path === '.' || !this.matches(path, true)) return true;
    const names = path.split('/');
    return this.patterns.some((p) => p.exception && mayMatchBelow(p, names));
  }

  /**
   * This matcher with exceptions appended for `paths` that it excludes, the way the Docker CLI
   * keeps `.dockerignore` and the Dockerfile in the context.
   */
  keeping(paths: readonly string[]): IgnoreMatcher {
    const extra = paths.map(normalize).filter((p) => p !== '.' && !p.startsWith('../') && p !== '..' && this.matches(p));
    return extra.length === 0 ? this : new IgnoreMatcher([...this.lines, ...extra.map((p) => `!${escapePattern(p)}`)]);
  }
}

/** Can `pattern` match some path strictly below the directory whose names are `names`? */
function mayMatchBelow(pattern: IgnorePattern, names: readonly string[]): boolean {
  const segs = pattern.segments;
  for (let i = 0; i < names.length; i++) {
    const seg = segs[i];
    if (seg === undefined) return false; // matches the directory or an ancestor at most
    if (seg.opaque) return true;
    if (seg.re ? !seg.re.test(names[i]!) : seg.literal !== names[i]) return false;
  }
  return segs.length > names.length;
}

/** Where the ignore rules of a build come from. */
export interface IgnoreSource {
  /** The context directory. */
  contextDir: string;
  /** The Dockerfile's path (absolute, or relative to the working directory); omitted when it comes from stdin. */
  dockerfile?: string;
}

/** The rules of a build and the file they were read from (undefined: no ignore file). */
export interface LoadedIgnore {
  matcher: IgnoreMatcher;
  file: string | undefined;
}

/**
 * Reads the ignore file of a build: `<Dockerfile>.dockerignore` first, then
 * `<context>/.dockerignore`; a missing file means nothing is excluded. The result keeps
 * `.dockerignore` and the Dockerfile (when it lies inside the context) in the context.
 */
export async function loadIgnoreMatcher(source: IgnoreSource): Promise<LoadedIgnore> {
  const contextDir = resolve(source.contextDir);
  const dockerfile = source.dockerfile === undefined ? undefined : resolve(source.dockerfile);
  const candidates = [...(dockerfile ? [`${dockerfile}.dockerignore`] : []), join(contextDir, '.dockerignore')];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) continue;
      throw err;
    }
    const keep = ['.dockerignore'];
    if (dockerfile) {
      const rel = relative(contextDir, dockerfile);
      if (rel !== '' && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`)) keep.push(rel.split(sep).join('/'));
    }
    return { matcher: new IgnoreMatcher(parseDockerignore(text)).keeping(keep), file };
  }
  return { matcher: new IgnoreMatcher(), file: undefined };
}
