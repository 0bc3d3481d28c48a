/**
 * `--change` instructions of `import` (and later `commit`): the subset of Dockerfile
 * instructions that edit an image config, applied as Docker applies them.
 * https://docs.docker.com/reference/cli/docker/image/import/
 */
import { errors } from '../core/errors.js';
import type { ContainerConfig } from '../core/oci.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];

/** Applies `changes` (e.g. `CMD ["sh"]`, `ENV A=b`) to `config` in place; throws on a bad one. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): void {
  for (const change of changes) {
    const trimmed = change.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
    const keyword = m?.[1]?.toUpperCase() ?? '';
    const rest = m?.[2] ?? '';
    if (!ALLOWED.includes(keyword)) {
      throw errors.invalid(`${keyword || JSON.stringify(change)} is not a valid change command`, {
        hint: `valid instructions are ${ALLOWED.join(', ')}`,
      });
    }
    if (rest === '' && keyword !== 'CMD' && keyword !== 'ENTRYPOINT') {
      throw errors.invalid(`${keyword} requires at least one argument`);
    }
    switch (keyword) {
      case 'CMD':
        config.Cmd = commandForm(rest);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = commandForm(rest);
        break;
      case 'ENV':
        for (const [k, v] of keyValues(rest, 'ENV')) setEnv(config, k, v);
        break;
      case 'LABEL':
        config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(rest, 'LABEL')) };
        break;
      case 'EXPOSE':
        config.ExposedPorts ??= {};
        for (const p of rest.split(/\s+/)) config.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        break;
      case 'VOLUME': {
        config.Volumes ??= {};
        for (const v of jsonArray(rest) ?? rest.split(/\s+/)) config.Volumes[v] = {};
        break;
      }
      case 'USER':
        config.User = rest;
        break;
      case 'WORKDIR':
        config.WorkingDir = rest.startsWith('/') ? rest : `${config.WorkingDir ?? '/'}/${rest}`.replace(/\/+/g, '/');
        break;
      case 'STOPSIGNAL':
        config.StopSignal = rest;
        break;
      case 'ONBUILD':
        config.OnBuild = [...(config.OnBuild ?? []), rest];
        break;
      case 'HEALTHCHECK':
        config.Healthcheck = rest.toUpperCase() === 'NONE' ? { Test: ['NONE'] } : { Test: ['CMD-SHELL', rest.replace(/^CMD\s+/i, '')] };
        break;
    }
  }
}

function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: shell form, as Docker falls back
  }
  return undefined;
}

/** Exec form when the text is a JSON string array, else shell form under /bin/sh -c. */
function commandForm(text: string): string[] {
  return jsonArray(text) ?? ['/bin/sh', '-c', text];
}

/** `k=v k2="v 2"` pairs, or the legacy `k v` form. */
function keyValues(text: string, what: string): [string, string][] {
  if (!/^[^\s=]+=/.test(text)) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(text);
    if (!m) throw errors.invalid(`${what} must have two arguments`);
    return [[m[1] as string, m[2] as string]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of text.matchAll(re)) {
    let v = m[2] as string;
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1] as string, v]);
  }
  return out;
}

function setEnv(config: ContainerConfig, key: string, value: string): void {
  const env = (config.Env ?? []).filter((e) => e.split('=')[0] !== key);
  env.push(`${key}=${value}`);
  config.Env = env;
}
