/**
 * Search: results as you type (debounced `GET /api/search`), kept in the URL (`/search?q=`)
 * so a result list can be shared and the back button returns to it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type SearchPage } from '../api';
import { ErrorNote } from '../components';
import { timeAgo } from '../format';
import { Link, navigate, useLocation } from '../router';

export function HomePage() {
  const { query } = useLocation();
  const [q, setQ] = useState(query.get('q') ?? '');
  const [result, setResult] = useState<SearchPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const seq = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  useEffect(() => {
    const mine = ++seq.current;
    setPending(true);
    const timer = setTimeout(() => {
      const url = q ? `/search?q=${encodeURIComponent(q)}` : '/';
      if (url !== location.pathname + location.search) navigate(url, true);
      api<SearchPage>('GET', `/api/search?q=${encodeURIComponent(q)}&page=1&page_size=25`).then(
        (r) => {
          if (mine !== seq.current) return; // NOTE: an older, slower answer must not replace a newer one
          setResult(r);
          setError(null);
          setPending(false);
        },
        (e) => {
          if (mine !== seq.current) return;
          setError(e);
          setPending(false);
        },
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [q]);

  return (
    <section class="search">
      <h1>Find container images</h1>
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="q">Search repositories</label>
        <input id="q" ref={input} type="search" value={q} autoComplete="off" placeholder="e.g. alpine, alice/app" onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      </form>
      <ErrorNote error={error} />
      <p class="muted" role="status" aria-live="polite">
        {pending ? 'Searching…' : result ? `${result.count} repositor${result.count === 1 ? 'y' : 'ies'}` : ''}
      </p>
      <ul class="cards" aria-label="Search results">
        {result?.results.map((r) => (
          <li key={`${r.namespace}/${r.name}`} class="card">
            <Link href={`/r/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`} class="card-title">
              {r.namespace}/{r.name}
            </Link>
            {r.is_official && <span class="badge">official</span>}
            {r.is_private && <span class="badge private">private</span>}
            <p>{r.description || <span class="muted">No description</span>}</p>
            <p class="meta muted">
              <span aria-label={`${r.star_count} stars`}>★ {r.star_count}</span> · <span>{r.pull_count} pulls</span> · <span>updated {timeAgo(r.last_pushed)}</span>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
