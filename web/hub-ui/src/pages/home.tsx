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
  const [official, setOfficial] = useState(query.get('official') === '1');
  const [more, setMore] = useState(false);
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
      const url = q || official ? `/search?q=${encodeURIComponent(q)}${official ? '&official=1' : ''}` : '/';
      if (url !== location.pathname + location.search) navigate(url, true);
      api<SearchPage>('GET', searchUrl(q, official, 1)).then(
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
  }, [q, official]);

  const loadMore = async () => {
    if (!result) return;
    const mine = seq.current;
    setMore(true);
    try {
      const next = await api<SearchPage>('GET', searchUrl(q, official, result.page + 1));
      if (mine === seq.current) setResult({ ...next, results: [...result.results, ...next.results] });
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  };

  return (
    <section class="search">
      <h1>Find container images</h1>
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="q">Search repositories</label>
        <input id="q" ref={input} type="search" value={q} autoComplete="off" placeholder="e.g. alpine, alice/app" onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <label class="inline">
          <input type="checkbox" checked={official} onChange={(e) => setOfficial((e.currentTarget as HTMLInputElement).checked)} /> Official images only
        </label>
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
              <span>
                <span aria-hidden="true">★</span> {r.star_count}
                <span class="visually-hidden"> stars</span>
              </span> · <span>{r.pull_count} pulls</span> · <span>updated {timeAgo(r.last_pushed)}</span>
            </p>
          </li>
        ))}
      </ul>
      {result && result.results.length < result.count && (
        <button type="button" onClick={() => void loadMore()} disabled={more}>
          {more ? 'Loading…' : `More results (${result.count - result.results.length} left)`}
        </button>
      )}
    </section>
  );
}

/** `/api/search` for a query, the official filter and a page of 25. */
function searchUrl(q: string, official: boolean, page: number): string {
  return `/api/search?q=${encodeURIComponent(q)}&page=${page}&page_size=25${official ? '&is_official=true' : ''}`;
}
