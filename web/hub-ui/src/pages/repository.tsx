/**
 * A repository: its header (name, star button, pull commands, tabs) and the Overview (Markdown
 * description), Tags (table, delete a tag) and Settings (descriptions, visibility, delete) tabs.
 * Builds and webhooks have pages of their own that reuse {@link RepoHeader}.
 */
import { useState } from 'preact/hooks';
import { api, repoPath, type Repository, type Tag } from '../api';
import { CopyLine, ErrorNote, Loading, Markdown, useAction, useData } from '../components';
import { formatSize, shortDigest, timeAgo } from '../format';
import { Link, navigate } from '../router';
import { useSession } from '../session';

type Tab = 'overview' | 'tags' | 'builds' | 'webhooks' | 'settings';

/** The registry host for pull commands: the host the UI is served from. */
export const registryHost = () => location.host;

/** The repository's title, star button, pull commands and tabs. */
export function RepoHeader({ repo, tab, onChange }: { repo: Repository; tab: Tab; onChange?: (r: Repository) => void }) {
  const base = `/r/${encodeURIComponent(repo.namespace)}/${encodeURIComponent(repo.name)}`;
  const star = useAction();
  const session = useSession();
  const toggleStar = () => {
    // With accounts, stars are per user: an anonymous visitor signs in first.
    if (session?.accounts && !session.username) return navigate(`/signin?next=${encodeURIComponent(location.pathname)}`);
    void star.run(async () => {
      const r = await api<{ star_count: number; starred: boolean }>(repo.starred ? 'DELETE' : 'PUT', repoPath(repo.namespace, repo.name, '/star'));
      onChange?.({ ...repo, ...r });
    });
  };
  // The hub may know its public name better than the browser's address bar (a proxy in front).
  const ref = repo.pull_command?.trim().split(/\s+/).pop() || `${registryHost()}/${repo.namespace}/${repo.name}`;
  const tabs: [Tab, string, string][] = [
    ['overview', 'Overview', base],
    ['tags', 'Tags', `${base}/tags`],
    ['builds', 'Builds', `${base}/builds`],
    ['webhooks', 'Webhooks', `${base}/webhooks`],
  ];
  if (repo.can_edit) tabs.push(['settings', 'Settings', `${base}/settings`]);
  return (
    <div class="repo-head">
      <div class="repo-title">
        <h1>
          <span class="muted">{repo.namespace} /</span> {repo.name}
        </h1>
        {repo.is_private && <span class="badge private">private</span>}
        <button type="button" class="star" aria-pressed={repo.starred} onClick={toggleStar} disabled={star.busy} title={repo.starred ? 'Unstar' : 'Star'}>
          {repo.starred ? '★ Starred' : '☆ Star'} <span class="count">{repo.star_count}</span>
        </button>
      </div>
      <ErrorNote error={star.error} />
      {repo.description && <p class="lead">{repo.description}</p>}
      <p class="meta muted">
        {repo.pull_count} pulls · updated {timeAgo(repo.last_pushed)}
      </p>
      <div class="pulls">
        <CopyLine label="docker pull command" command={`docker pull ${ref}`} />
        <CopyLine label="gantry pull command" command={`gantry pull ${ref}`} />
      </div>
      <nav aria-label="Repository" class="tabs">
        {tabs.map(([t, label, href]) => (
          <Link key={t} href={href} aria-current={t === tab ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
    </div>
  );
}

/** Loads a repository for a page of it. */
export function useRepository(ns: string, name: string) {
  return useData(() => api<Repository>('GET', repoPath(ns, name)), [ns, name]);
}

export function RepositoryPage({ ns, name, tab }: { ns: string; name: string; tab: Tab }) {
  const { data, error, loading } = useRepository(ns, name);
  const [repo, setRepo] = useState<Repository | null>(null);
  const shown = repo && repo.namespace === ns && repo.name === name ? repo : data;
  if (error) return <ErrorNote error={error} />;
  if (loading && !shown) return <Loading />;
  if (!shown) return null;
  return (
    <section>
      <RepoHeader repo={shown} tab={tab} onChange={setRepo} />
      {tab === 'overview' && (shown.full_description ? <Markdown source={shown.full_description} /> : <p class="muted">No overview yet.</p>)}
      {tab === 'tags' && <TagsTable repo={shown} />}
      {tab === 'settings' && <Settings repo={shown} onChange={setRepo} />}
    </section>
  );
}

function TagsTable({ repo }: { repo: Repository }) {
  const { data, error, loading, reload } = useData(() => api<Tag[]>('GET', repoPath(repo.namespace, repo.name, '/tags')), [repo.namespace, repo.name]);
  const del = useAction();
  const base = `/r/${encodeURIComponent(repo.namespace)}/${encodeURIComponent(repo.name)}`;
  const remove = (tag: string) => {
    if (!confirm(`Delete tag ${tag} of ${repo.namespace}/${repo.name}?`)) return;
    void del.run(() => api('DELETE', repoPath(repo.namespace, repo.name, `/tags/${encodeURIComponent(tag)}`))).then((ok) => ok && reload());
  };
  if (error) return <ErrorNote error={error} />;
  if (loading && !data) return <Loading />;
  if (!data?.length) return <p class="muted">No tags yet. Push one: <code>gantry push {registryHost()}/{repo.namespace}/{repo.name}:latest</code></p>;
  return (
    <>
      <ErrorNote error={del.error} />
      <div class="table-wrap">
        <table class="tags">
          <caption class="visually-hidden">Tags of {repo.namespace}/{repo.name}</caption>
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col">Digest</th>
              <th scope="col">OS/Arch</th>
              <th scope="col">Size</th>
              <th scope="col">Pushed</th>
              {repo.can_edit && <th scope="col"><span class="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.name}>
                <th scope="row">
                  <Link href={`${base}/tags/${encodeURIComponent(t.name)}`}>{t.name}</Link>
                </th>
                <td>
                  <code title={t.digest}>{shortDigest(t.digest)}</code>
                </td>
                <td>{t.platforms.join(', ') || '—'}</td>
                <td>{formatSize(t.size)}</td>
                <td title={t.pushed_at ?? ''}>{timeAgo(t.pushed_at)}</td>
                {repo.can_edit && (
                  <td>
                    <button type="button" class="danger small" onClick={() => remove(t.name)} disabled={del.busy} aria-label={`Delete tag ${t.name}`}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Settings({ repo, onChange }: { repo: Repository; onChange: (r: Repository) => void }) {
  const session = useSession();
  const save = useAction();
  const del = useAction();
  const [saved, setSaved] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setSaved(false);
    void save
      .run(async () => {
        const r = await api<Repository>('PATCH', repoPath(repo.namespace, repo.name), {
          description: String(f.get('description') ?? ''),
          full_description: String(f.get('full_description') ?? ''),
          // Visibility exists only with accounts (the account store owns it).
          ...(session?.accounts ? { is_private: f.get('visibility') === 'private' } : {}),
        });
        onChange({ ...repo, ...r });
      })
      .then((ok) => setSaved(ok));
  };
  const remove = () => {
    if (!confirm(`Delete ${repo.namespace}/${repo.name} and all its tags?`)) return;
    void del.run(() => api('DELETE', repoPath(repo.namespace, repo.name))).then((ok) => ok && navigate('/repositories'));
  };
  return (
    <>
      <form class="stack" onSubmit={submit} aria-labelledby="settings-h">
        <h2 id="settings-h">{session?.accounts ? 'Description and visibility' : 'Description'}</h2>
        <label for="description">Short description</label>
        <input id="description" name="description" maxLength={100} defaultValue={repo.description} />
        <label for="full_description">Overview (Markdown)</label>
        <textarea id="full_description" name="full_description" rows={10} defaultValue={repo.full_description} />
        {session?.accounts && (
          <fieldset>
            <legend>Visibility</legend>
            <label>
              <input type="radio" name="visibility" value="public" defaultChecked={!repo.is_private} /> Public
            </label>
            <label>
              <input type="radio" name="visibility" value="private" defaultChecked={repo.is_private} /> Private
            </label>
          </fieldset>
        )}
        <ErrorNote error={save.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={save.busy}>
            Save
          </button>
          {saved && <span role="status">Saved.</span>}
        </div>
      </form>
      <section class="danger-zone" aria-labelledby="danger-h">
        <h2 id="danger-h">Delete repository</h2>
        <p>Deletes its tags and manifests; the hub's garbage collection frees the layers.</p>
        <ErrorNote error={del.error} />
        <button type="button" class="danger" onClick={remove} disabled={del.busy}>
          Delete {repo.namespace}/{repo.name}
        </button>
      </section>
    </>
  );
}
