/**
 * The names of the hub's accounts and repositories, validated before they reach the account
 * database or a token. An account name (a user's or an organisation's) is a namespace: the
 * first component of the repositories it owns (`alice/web`), so it follows the OCI
 * Distribution grammar of one path component, restricted to what Docker Hub allows (letters,
 * digits and single separators, at most 64 characters). Repository names follow the
 * distribution spec's `<name>` grammar.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
import { errors } from '../../core/errors.js';

// One path component of the distribution spec: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
// Namespaces: no dots or underscores (they would read as host names or be confused), as Hub.
const ACCOUNT_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The longest account name. */
export const ACCOUNT_NAME_MAX = 64;
/** The longest repository name the hub accepts (the spec's recommendation for clients). */
export const REPOSITORY_NAME_MAX = 255;

/** True when `name` is a valid user or organisation name. */
export function isAccountName(name: string): boolean {
  return name.length <= ACCOUNT_NAME_MAX && ACCOUNT_RE.test(name);
}

/** Throws INVALID_ARGUMENT unless `name` is a valid user or organisation name. */
export function checkAccountName(name: string, what = 'account'): void {
  if (!isAccountName(name)) {
    throw errors.invalid(`invalid ${what} name "${name}"`, {
      hint: `use 1 to ${ACCOUNT_NAME_MAX} lowercase letters, digits and single dashes, starting and ending with a letter or digit`,
    });
  }
}

/** True when `name` is a valid repository name (`alice/web`, `library/busybox`, `tools`). */
export function isRepositoryName(name: string): boolean {
  return name.length <= REPOSITORY_NAME_MAX && REPOSITORY_RE.test(name);
}

/** Throws INVALID_ARGUMENT unless `name` is a valid repository name. */
export function checkRepositoryName(name: string): void {
  if (!isRepositoryName(name)) {
    throw errors.invalid(`invalid repository name "${name}"`, {
      hint: 'a repository name is lowercase path components such as "alice/web", without host or tag',
    });
  }
}

/**
 * The namespace a repository belongs to: its first component when it has more than one
 * (`alice` for `alice/web`), undefined for a top-level name (`busybox`), which no user or
 * organisation owns.
 */
export function namespaceOf(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash < 0 ? undefined : repository.slice(0, slash);
}
