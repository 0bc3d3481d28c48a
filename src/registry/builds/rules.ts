/**
 * Automated build rules: which pushed branch or tag builds which image tag. A rule names a
 * source type (branch or tag) and a source — an exact name, or `/regex/` — and a target tag in
 * which `{sourceref}` is the pushed name and `{\1}`…`{\9}` the regex's groups (Docker Hub's
 * syntax). Checked when settings are saved, so a bad regex or target is refused up front.
 */
import { errors } from '../../core/errors.js';
import type { BuildRule } from '../storage/hub-data-store.js';

/** A pushed ref: `refs/heads/X` is a branch, `refs/tags/Y` a tag. */
export interface PushedRef {
  type: 'branch' | 'tag';
  name: string;
}

/** What a matching rule builds. */
export interface RuleMatch {
  index: number;
  rule: BuildRule;
  tag: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The regex of a `/regex/` source, or undefined for an exact name. */
function sourceRegex(source: string): RegExp | undefined {
  if (source.length < 2 || !source.startsWith('/') || !source.endsWith('/')) return undefined;
  return new RegExp(source.slice(1, -1));
}

/** The image tag `rule` builds for `ref`, or undefined when it does not match. */
export function targetTag(rule: BuildRule, ref: PushedRef): string | undefined {
  if (rule.source_type !== ref.type) return undefined;
  const re = sourceRegex(rule.source);
  let groups: string[] = [];
  if (re) {
    const m = re.exec(ref.name);
    if (!m) return undefined; // anchors are the rule's own (`/^v(.*)$/`), as on Docker Hub
    groups = m.map((g) => g ?? '');
  } else if (rule.source !== ref.name) return undefined;
  const tag = rule.target_tag.replace(/\{sourceref\}/g, ref.name).replace(/\{\\([1-9])\}/g, (_, n: string) => groups[Number(n)] ?? '');
  // A branch such as `feature/x` makes an invalid tag: its slashes become dashes.
  const clean = tag.replace(/[^A-Za-z0-9._-]/g, '-');
  return TAG.test(clean) ? clean : undefined;
}

/** Every rule matching `ref`, with its tag. */
export function matchRules(rules: readonly BuildRule[], ref: PushedRef): RuleMatch[] {
  const out: RuleMatch[] = [];
  rules.forEach((rule, index) => {
    const tag = targetTag(rule, ref);
    if (tag !== undefined) out.push({ index, rule, tag });
  });
  return out;
}

/** Checks and normalises rules from the API; INVALID_ARGUMENT naming the rule. */
export function checkRules(value: unknown): BuildRule[] {
  if (!Array.isArray(value) || value.length > 50) throw errors.invalid('rules must be a list of at most 50 rules');
  return value.map((raw: unknown, i) => {
    const r = (raw ?? {}) as Record<string, unknown>;
    const where = `rules[${i}]`;
    if (r.source_type !== 'branch' && r.source_type !== 'tag') throw errors.invalid(`${where}.source_type must be "branch" or "tag"`);
    if (typeof r.source !== 'string' || r.source === '' || r.source.length > 256) throw errors.invalid(`${where}.source must be a name or /regex/`);
    try {
      sourceRegex(r.source);
    } catch (err) {
      throw errors.invalid(`${where}.source: ${(err as Error).message}`);
    }
    const target = r.target_tag ?? 'latest';
    if (typeof target !== 'string' || target === '' || target.length > 128) throw errors.invalid(`${where}.target_tag must be a tag template`);
    const dockerfile = r.dockerfile ?? 'Dockerfile';
    const context = r.context ?? '/';
    if (typeof dockerfile !== 'string' || !isInside(dockerfile) || dockerfile === '' || dockerfile.endsWith('/')) throw errors.invalid(`${where}.dockerfile must be a path inside the repository`);
    if (typeof context !== 'string' || !isInside(context)) throw errors.invalid(`${where}.context must be a path inside the repository`);
    return { source_type: r.source_type, source: r.source, target_tag: target, dockerfile, context };
  });
}

/** True for a relative (or `/`-rooted, meaning the repository's root) path with no `..`. */
export function isInside(path: string): boolean {
  return path.length <= 1024 && !path.includes('\0') && !path.split('/').includes('..');
}
