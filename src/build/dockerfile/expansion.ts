/**
 * Which parts of an instruction are expanded with the stage's ARG and ENV values, and how, as
 * BuildKit's dockerfile2llb dispatch does:
 *
 * - one word each (quotes removed, spaces kept): ENV and LABEL keys and values, ARG defaults,
 *   WORKDIR, USER, STOPSIGNAL, each VOLUME, COPY/ADD sources, destination, --chown, --chmod and
 *   ADD --checksum, FROM's image and --platform (with the global ARGs), RUN --mount values;
 * - split into words: each EXPOSE argument (`EXPOSE $PORTS` may give several ports);
 * - raw (quotes kept, `\` escapes): here-document sources of COPY/ADD whose delimiter is unquoted;
 * - never: RUN, CMD, ENTRYPOINT and HEALTHCHECK commands (the shell expands shell form at run
 *   time; exec form is not expanded at all), SHELL, MAINTAINER, ONBUILD triggers (expanded when
 *   they run in the child build) and COPY --from.
 */
import type { Instruction } from './instructions.js';
import { parseMount } from './run-mount.js';
import { processWord, type ExpansionEnv } from './shell-lexer.js';

/** Options of {@link expandInstruction}. */
export interface ExpandOptions {
  /** The Dockerfile's escape token (Dockerfile.escapeToken); default `\`. */
  escapeToken?: string;
  /** Called with each variable a word used that is not set (BuildKit's UndefinedVar check). */
  onUndefined?: (name: string) => void;
}

/** Returns a copy of `instruction` with its expandable fields expanded in `env`. */
export function expandInstruction<T extends Instruction>(instruction: T, env: ExpansionEnv, options: ExpandOptions = {}): T {
  const lex = { escapeToken: options.escapeToken ?? '\\' };
  const run = (s: string, lexOptions: typeof lex & { skipProcessQuotes?: boolean }) => {
    const r = processWord(s, env, lexOptions);
    if (options.onUndefined) for (const name of r.unmatched) options.onUndefined(name);
    return r;
  };
  const word = (s: string): string => run(s, lex).result;
  const opt = (s: string | undefined): string | undefined => (s === undefined ? undefined : word(s));
  const i: Instruction = instruction;
  switch (i.kind) {
    case 'ENV':
      return { ...i, env: i.env.map((kv) => ({ ...kv, key: word(kv.key), value: word(kv.value) })) } as T;
    case 'LABEL':
      return { ...i, labels: i.labels.map((kv) => ({ ...kv, key: word(kv.key), value: word(kv.value) })) } as T;
    case 'ARG':
      return { ...i, args: i.args.map((a) => (a.value === undefined ? a : { ...a, value: word(a.value) })) } as T;
    case 'WORKDIR':
      return { ...i, path: word(i.path) } as T;
    case 'USER':
      return { ...i, user: word(i.user) } as T;
    case 'STOPSIGNAL':
      return { ...i, signal: word(i.signal) } as T;
    case 'VOLUME':
      return { ...i, volumes: i.volumes.map(word) } as T;
    case 'EXPOSE':
      return { ...i, ports: i.ports.flatMap((p) => run(p, lex).words) } as T;
    case 'FROM':
      return { ...i, image: word(i.image), platform: opt(i.platform) } as T;
    case 'RUN':
      return { ...i, mounts: i.mountSpecs.map((s) => parseMount(s, word)) } as T;
    case 'COPY':
    case 'ADD': {
      const raw = { skipProcessQuotes: true };
      const out = {
        ...i,
        sources: i.sources.map(word),
        dest: word(i.dest),
        chown: opt(i.chown),
        chmod: opt(i.chmod),
        contents: i.contents.map((c) => (c.expand ? { ...c, data: run(c.data, { ...lex, ...raw }).result } : c)),
      };
      if (out.kind === 'ADD') out.checksum = opt(out.checksum);
      return out as T;
    }
    default:
      return instruction;
  }
}
