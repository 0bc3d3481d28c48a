/**
 * Automated builds of a repository: the settings (provider, clone URL, write-only secret, build
 * rules), the "trigger" button per rule, the build history, and a build's live log streamed with
 * EventSource from `.../builds/:id/log` until its `end` event.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Build, type BuildRule, type BuildSettings, repoPath } from '../api';
import { ErrorNote, Loading, useAction, useData } from '../components';
import { formatDuration, shortDigest, timeAgo } from '../format';
import { Link } from '../router';
import { RepoHeader, useRepository } from './repository';

const EMPTY_RULE: BuildRule = { source_type: 'branch', source: 'main', target_tag: 'latest', dockerfile: 'Dockerfile', context: '/' };

export function BuildsPage({ ns, name }: { ns: string; name: string }) {
  const repo = useRepository(ns, name);
  const builds = useData(() => api<Build[]>('GET', repoPath(ns, name, '/builds')), [ns, name]);
  const running = builds.data?.some((b) => b.status === 'queued' || b.status === 'running');
  useEffect(() => {
    if (!running) return;
    const t = setInterval(builds.reload, 3000);
    return () => clearInterval(t);
  }, [running]);
  if (repo.error) return <ErrorNote error={repo.error} />;
  if (!repo.data) return <Loading />;
  return (
    <section>
      <RepoHeader repo={repo.data} tab="builds" />
      {repo.data.can_edit && <BuildSettingsForm ns={ns} name={name} onTriggered={builds.reload} />}
      <h2>Build history</h2>
      {builds.error && <ErrorNote error={builds.error} />}
      {builds.loading && !builds.data && <Loading />}
      {builds.data && !builds.data.length && <p class="muted">No builds yet.</p>}
      {!!builds.data?.length && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Build</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Tag</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Digest</th>
              </tr>
            </thead>
            <tbody>
              {builds.data.map((b) => (
                <tr key={b.id}>
                  <th scope="row">
                    <Link href={`/r/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/builds/${encodeURIComponent(String(b.id))}`}>#{b.id}</Link>
                  </th>
                  <td>
                    <span class={`status ${b.status}`}>{b.status}</span>
                  </td>
                  <td>
                    {b.source_ref} {b.commit && <code>{b.commit.slice(0, 7)}</code>} <span class="muted">({b.trigger})</span>
                  </td>
                  <td>{b.tag}</td>
                  <td title={b.started_at ?? b.created_at}>{timeAgo(b.started_at ?? b.created_at)}</td>
                  <td>{formatDuration(b.duration_ms)}</td>
                  <td>
                    <code>{shortDigest(b.digest)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function BuildSettingsForm({ ns, name, onTriggered }: { ns: string; name: string; onTriggered: () => void }) {
  const settings = useData(() => api<BuildSettings>('GET', repoPath(ns, name, '/build-settings')).catch(() => null), [ns, name]);
  const [rules, setRules] = useState<BuildRule[] | null>(null);
  const save = useAction();
  const trigger = useAction();
  const [saved, setSaved] = useState(false);
  const shownRules = rules ?? (settings.data?.rules?.length ? settings.data.rules : [EMPTY_RULE]);
  const setRule = (i: number, patch: Partial<BuildRule>) => setRules(shownRules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  if (settings.loading && settings.data === undefined) return <Loading />;
  const s = settings.data;
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const body: BuildSettings = { provider: f.get('provider') === 'bitbucket' ? 'bitbucket' : 'github', clone_url: String(f.get('clone_url') ?? ''), rules: shownRules };
    const secret = String(f.get('secret') ?? '');
    if (secret) body.secret = secret;
    setSaved(false);
    void save.run(() => api('PUT', repoPath(ns, name, '/build-settings'), body)).then((ok) => {
      setSaved(ok);
      if (ok) settings.reload();
    });
  };
  const run = (i: number) => void trigger.run(() => api('POST', repoPath(ns, name, '/builds'), { rule: i })).then((ok) => ok && onTriggered());
  const hook = `${location.origin}/api/webhooks/${s?.provider ?? 'github'}/${ns}/${name}`;
  return (
    <form class="stack panel" onSubmit={submit} aria-labelledby="build-h">
      <h2 id="build-h">Automated builds</h2>
      <div class="row wrap">
        <div class="stack">
          <label for="provider">Provider</label>
          <select id="provider" name="provider" defaultValue={s?.provider ?? 'github'}>
            <option value="github">GitHub</option>
            <option value="bitbucket">Bitbucket</option>
          </select>
        </div>
        <div class="stack grow">
          <label for="clone_url">Clone URL</label>
          <input id="clone_url" name="clone_url" required defaultValue={s?.clone_url ?? ''} placeholder="https://github.com/alice/app.git" />
        </div>
      </div>
      <label for="secret">Webhook secret {s?.has_secret && <span class="muted">(set; leave empty to keep it)</span>}</label>
      <input id="secret" name="secret" type="password" autoComplete="new-password" />
      <p class="muted small">
        Webhook URL for the provider: <code class="wrap">{hook}</code>
      </p>
      <fieldset>
        <legend>Build rules</legend>
        {shownRules.map((r, i) => (
          <div class="rule" key={i} role="group" aria-label={`Rule ${i + 1}`}>
            <label>
              Source type
              <select value={r.source_type} onChange={(e) => setRule(i, { source_type: (e.currentTarget as HTMLSelectElement).value as 'branch' | 'tag' })}>
                <option value="branch">Branch</option>
                <option value="tag">Tag</option>
              </select>
            </label>
            <label>
              Source
              <input value={r.source} onInput={(e) => setRule(i, { source: (e.currentTarget as HTMLInputElement).value })} />
            </label>
            <label>
              Docker tag
              <input value={r.target_tag} onInput={(e) => setRule(i, { target_tag: (e.currentTarget as HTMLInputElement).value })} />
            </label>
            <label>
              Dockerfile
              <input value={r.dockerfile} onInput={(e) => setRule(i, { dockerfile: (e.currentTarget as HTMLInputElement).value })} />
            </label>
            <label>
              Context
              <input value={r.context} onInput={(e) => setRule(i, { context: (e.currentTarget as HTMLInputElement).value })} />
            </label>
            <div class="row">
              <button type="button" class="small" onClick={() => run(i)} disabled={trigger.busy || !s}>
                Trigger
              </button>
              <button type="button" class="small danger" onClick={() => setRules(shownRules.filter((_, j) => j !== i))} aria-label={`Remove rule ${i + 1}`}>
                Remove
              </button>
            </div>
          </div>
        ))}
        <button type="button" class="small" onClick={() => setRules([...shownRules, { ...EMPTY_RULE }])}>
          Add a rule
        </button>
      </fieldset>
      <ErrorNote error={save.error ?? trigger.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy}>
          Save build settings
        </button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

export function BuildLogPage({ ns, name, id }: { ns: string; name: string; id: string }) {
  const repo = useRepository(ns, name);
  const build = useData(() => api<Build>('GET', repoPath(ns, name, `/builds/${encodeURIComponent(id)}`)), [ns, name, id]);
  const [lines, setLines] = useState<string[] | null>(null);
  const [live, setLive] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const done = build.data && !['queued', 'running'].includes(build.data.status);
  useEffect(() => {
    if (!build.data || done) return;
    // NOTE: the stream replays the log from its start, so the fetched text is replaced, not appended to.
    const es = new EventSource(repoPath(ns, name, `/builds/${encodeURIComponent(id)}/log`));
    const acc: string[] = [];
    setLive(true);
    es.onmessage = (e) => {
      acc.push(String(e.data));
      setLines([...acc]);
    };
    es.addEventListener('end', () => {
      es.close();
      setLive(false);
      build.reload();
    });
    es.onerror = () => {
      es.close();
      setLive(false);
    };
    return () => es.close();
  }, [build.data?.id, done]);
  useEffect(() => {
    const el = pre.current;
    if (el && live) el.scrollTop = el.scrollHeight;
  }, [lines, live]);
  if (repo.error || build.error) return <ErrorNote error={repo.error ?? build.error} />;
  if (!repo.data || !build.data) return <Loading />;
  const b = build.data;
  const text = lines ? lines.join('\n') : (b.log ?? '');
  return (
    <section>
      <RepoHeader repo={repo.data} tab="builds" />
      <h2>
        Build #{b.id} <span class={`status ${b.status}`}>{b.status}</span>
      </h2>
      <p class="meta muted">
        {b.source_ref} {b.commit && <code>{b.commit.slice(0, 7)}</code>} → {b.tag} · {formatDuration(b.duration_ms)} {b.digest && <code>{shortDigest(b.digest)}</code>}
      </p>
      <p class="muted" role="status" aria-live="polite">
        {live ? 'Streaming the log…' : ''}
      </p>
      <pre class="log" ref={pre} tabIndex={0} aria-label="Build log">
        {text || 'No output yet.'}
      </pre>
    </section>
  );
}
