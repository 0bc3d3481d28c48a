/** "My repositories": the signed-in user's and their organisations' repositories, and a create form. */
import { api, type Org, type RepoSummary } from '../api';
import { ErrorNote, Loading, useAction, useData } from '../components';
import { timeAgo } from '../format';
import { Link, navigate } from '../router';
import { canWrite, useSession } from '../session';

export function MyReposPage() {
  const session = useSession();
  const repos = useData(() => api<RepoSummary[]>('GET', '/api/repositories?namespace=me'), [session?.username]);
  const orgs = useData(() => (session?.username ? api<Org[]>('GET', '/api/orgs') : Promise.resolve([])), [session?.username]);
  const create = useAction();
  if (!canWrite(session)) {
    return (
      <section>
        <h1>My repositories</h1>
        <p>
          <Link href="/signin?next=/repositories">Sign in</Link> to see your repositories.
        </p>
      </section>
    );
  }
  const namespaces = [session?.username, ...(orgs.data ?? []).map((o) => o.name)].filter((n): n is string => !!n);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const namespace = String(f.get('namespace') ?? '');
    const name = String(f.get('name') ?? '').trim();
    void create
      .run(() => api('POST', '/api/repositories', { namespace, name, is_private: f.get('visibility') === 'private', description: String(f.get('description') ?? '') }))
      .then((ok) => ok && navigate(`/r/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`));
  };
  return (
    <section>
      <h1>My repositories</h1>
      <details class="panel" open={!repos.data?.length}>
        <summary>Create a repository</summary>
        <form class="stack" onSubmit={submit}>
          <div class="row wrap">
            <div class="stack">
              <label for="ns">Namespace</label>
              {namespaces.length ? (
                <select id="ns" name="namespace">
                  {namespaces.map((n) => (
                    <option key={n}>{n}</option>
                  ))}
                </select>
              ) : (
                <input id="ns" name="namespace" required pattern="_|[a-z0-9]+(?:[._\-][a-z0-9]+)*" title="_ for the top level (library images), or a namespace" />
              )}
            </div>
            <div class="stack grow">
              <label for="repo-name">Name</label>
              <input id="repo-name" name="name" required pattern="[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*" title="lower-case letters, digits and . _ -" />
            </div>
          </div>
          <label for="repo-desc">Short description</label>
          <input id="repo-desc" name="description" maxLength={100} />
          {session?.accounts && (
            <fieldset>
              <legend>Visibility</legend>
              <label>
                <input type="radio" name="visibility" value="public" defaultChecked /> Public
              </label>
              <label>
                <input type="radio" name="visibility" value="private" /> Private
              </label>
            </fieldset>
          )}
          <ErrorNote error={create.error} />
          <button type="submit" class="primary" disabled={create.busy}>
            Create
          </button>
        </form>
      </details>
      {repos.error && <ErrorNote error={repos.error} />}
      {repos.loading && !repos.data && <Loading />}
      {repos.data && !repos.data.length && <p class="muted">No repositories yet.</p>}
      <ul class="cards" aria-label="My repositories">
        {repos.data?.map((r) => (
          <li key={`${r.namespace}/${r.name}`} class="card">
            <Link class="card-title" href={`/r/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`}>
              {r.namespace}/{r.name}
            </Link>
            <span class={`badge${r.is_private ? ' private' : ''}`}>{r.is_private ? 'private' : 'public'}</span>
            <p>{r.description || <span class="muted">No description</span>}</p>
            <p class="meta muted">
              ★ {r.star_count} · {r.pull_count} pulls · updated {timeAgo(r.last_pushed)}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
