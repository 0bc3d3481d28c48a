/** Organisations: the ones the user belongs to (create one), and an organisation's members. */
import { api, type Member, type Org } from '../api';
import { ErrorNote, Loading, useAction, useData } from '../components';
import { Link, navigate } from '../router';
import { useSession } from '../session';

export function OrgsPage() {
  const session = useSession();
  const orgs = useData(() => api<Org[]>('GET', '/api/orgs'), [session?.username]);
  const create = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget as HTMLFormElement).get('name') ?? '').trim();
    void create.run(() => api('POST', '/api/orgs', { name })).then((ok) => ok && navigate(`/orgs/${encodeURIComponent(name)}`));
  };
  return (
    <section>
      <h1>Organisations</h1>
      {orgs.error && <ErrorNote error={orgs.error} />}
      {orgs.loading && !orgs.data && <Loading />}
      {orgs.data && !orgs.data.length && <p class="muted">You belong to no organisation yet.</p>}
      <ul class="cards">
        {orgs.data?.map((o) => (
          <li key={o.name} class="card">
            <Link class="card-title" href={`/orgs/${encodeURIComponent(o.name)}`}>
              {o.name}
            </Link>{' '}
            <span class="badge">{o.role}</span>
          </li>
        ))}
      </ul>
      <form class="stack panel" onSubmit={submit}>
        <h2>Create an organisation</h2>
        <label for="org-name">Name</label>
        <input id="org-name" name="name" required pattern="[a-z0-9]+(?:[._\-][a-z0-9]+)*" />
        <ErrorNote error={create.error} />
        <button type="submit" class="primary" disabled={create.busy}>
          Create
        </button>
      </form>
    </section>
  );
}

export function OrgPage({ org }: { org: string }) {
  const members = useData(() => api<Member[]>('GET', `/api/orgs/${encodeURIComponent(org)}/members`), [org]);
  const change = useAction();
  const base = `/api/orgs/${encodeURIComponent(org)}/members`;
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    void change
      .run(() => api('POST', base, { username: String(f.get('username') ?? '').trim(), role: String(f.get('role') ?? 'member'), pull_only: f.get('pull_only') === 'on' }))
      .then((ok) => {
        if (ok) {
          form.reset();
          members.reload();
        }
      });
  };
  const remove = (user: string) => {
    if (!confirm(`Remove ${user} from ${org}?`)) return;
    void change.run(() => api('DELETE', `${base}/${encodeURIComponent(user)}`)).then((ok) => ok && members.reload());
  };
  return (
    <section>
      <h1>
        <span class="muted">Organisation</span> {org}
      </h1>
      <p>
        <Link href="/repositories">Its repositories are listed with yours</Link>
      </p>
      <h2>Members</h2>
      {members.error && <ErrorNote error={members.error} />}
      {members.loading && !members.data && <Loading />}
      {members.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Access</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.username}>
                  <th scope="row">{m.username}</th>
                  <td>{m.role}</td>
                  <td>{m.pull_only ? 'pull only' : 'pull and push'}</td>
                  <td>
                    <button type="button" class="danger small" onClick={() => remove(m.username)} aria-label={`Remove ${m.username}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="stack panel" onSubmit={add}>
        <h3>Add a member</h3>
        <label for="member">Username</label>
        <input id="member" name="username" required />
        <label for="role">Role</label>
        <select id="role" name="role">
          <option value="member">member</option>
          <option value="owner">owner</option>
        </select>
        <label>
          <input type="checkbox" name="pull_only" /> Pull only
        </label>
        <ErrorNote error={change.error} />
        <button type="submit" class="primary" disabled={change.busy}>
          Add
        </button>
      </form>
    </section>
  );
}
