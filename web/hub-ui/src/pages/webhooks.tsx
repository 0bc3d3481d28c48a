/** Outgoing webhooks of a repository: list, create, delete, and each one's delivery history. */
import { useState } from 'preact/hooks';
import { api, type Delivery, repoPath, type Webhook } from '../api';
import { ErrorNote, Loading, useAction, useData } from '../components';
import { timeAgo } from '../format';
import { RepoHeader, useRepository } from './repository';

export function WebhooksPage({ ns, name }: { ns: string; name: string }) {
  const repo = useRepository(ns, name);
  const hooks = useData(() => api<Webhook[]>('GET', repoPath(ns, name, '/webhooks')), [ns, name]);
  const change = useAction();
  const [open, setOpen] = useState<string | number | null>(null);
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    void change.run(() => api('POST', repoPath(ns, name, '/webhooks'), { name: String(f.get('name') ?? ''), url: String(f.get('url') ?? '') })).then((ok) => {
      if (ok) {
        form.reset();
        hooks.reload();
      }
    });
  };
  const remove = (h: Webhook) => {
    if (!confirm(`Delete webhook ${h.name}?`)) return;
    void change.run(() => api('DELETE', repoPath(ns, name, `/webhooks/${encodeURIComponent(String(h.id))}`))).then((ok) => ok && hooks.reload());
  };
  if (repo.error) return <ErrorNote error={repo.error} />;
  if (!repo.data) return <Loading />;
  return (
    <section>
      <RepoHeader repo={repo.data} tab="webhooks" />
      <h2>Webhooks</h2>
      <p class="muted">On every push, the hub POSTs Docker Hub's webhook payload to each URL, retrying with backoff.</p>
      {hooks.error && <ErrorNote error={hooks.error} />}
      {hooks.loading && !hooks.data && <Loading />}
      {hooks.data && !hooks.data.length && <p class="muted">No webhooks.</p>}
      <ul class="cards">
        {hooks.data?.map((h) => (
          <li key={h.id} class="card">
            <strong>{h.name}</strong> <code class="wrap">{h.url}</code>
            <p class="meta muted">created {timeAgo(h.created_at)}</p>
            <div class="row">
              <button type="button" class="small" aria-expanded={open === h.id} onClick={() => setOpen(open === h.id ? null : h.id)}>
                {open === h.id ? 'Hide deliveries' : 'Deliveries'}
              </button>
              {repo.data?.can_edit && (
                <button type="button" class="small danger" onClick={() => remove(h)} aria-label={`Delete webhook ${h.name}`}>
                  Delete
                </button>
              )}
            </div>
            {open === h.id && <Deliveries ns={ns} name={name} id={h.id} />}
          </li>
        ))}
      </ul>
      {repo.data.can_edit && (
        <form class="stack panel" onSubmit={add}>
          <h3>Add a webhook</h3>
          <label for="hook-name">Name</label>
          <input id="hook-name" name="name" required />
          <label for="hook-url">URL</label>
          <input id="hook-url" name="url" type="url" required placeholder="https://ci.example.com/hooks/hub" />
          <ErrorNote error={change.error} />
          <button type="submit" class="primary" disabled={change.busy}>
            Add webhook
          </button>
        </form>
      )}
    </section>
  );
}

function Deliveries({ ns, name, id }: { ns: string; name: string; id: string | number }) {
  const d = useData(() => api<Delivery[]>('GET', repoPath(ns, name, `/webhooks/${encodeURIComponent(String(id))}/deliveries`)), [ns, name, id]);
  if (d.error) return <ErrorNote error={d.error} />;
  if (!d.data) return <Loading />;
  if (!d.data.length) return <p class="muted">No deliveries yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Response</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {d.data.map((x) => (
            <tr key={x.id}>
              <td>{x.event}</td>
              <td>
                <span class={`status ${x.status === 'delivered' ? 'success' : x.status}`}>{x.status}</span>
              </td>
              <td>{x.attempts}</td>
              <td>{x.response_status ?? x.last_error ?? '—'}</td>
              <td title={x.delivered_at ?? x.created_at}>{timeAgo(x.delivered_at ?? x.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
