/**
 * The hub's web UI: the page frame (header with search and account, main landmark) and the
 * routes. Pages live in pages/, one per resource; all data comes from the JSON API
 * (docs/dev/hub-api.md).
 */
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { BuildLogPage, BuildsPage } from './pages/builds';
import { HomePage } from './pages/home';
import { MyReposPage } from './pages/my-repos';
import { OrgPage, OrgsPage } from './pages/orgs';
import { RepositoryPage } from './pages/repository';
import { SignInPage } from './pages/signin';
import { TagPage } from './pages/tag';
import { WebhooksPage } from './pages/webhooks';
import { Link, match, navigate, useLocation } from './router';
import { canWrite, loadSession, signOut, useSession } from './session';
import './style.css';

function Header() {
  const session = useSession();
  const { path, query } = useLocation();
  const onSearch = (e: Event) => {
    e.preventDefault();
    const q = new FormData(e.currentTarget as HTMLFormElement).get('q');
    navigate(`/search?q=${encodeURIComponent(String(q ?? ''))}`);
  };
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" class="brand">
        gantry hub
      </Link>
      {path !== '/' && path !== '/search' && (
        <form role="search" class="top-search" onSubmit={onSearch}>
          <label class="visually-hidden" for="top-q">
            Search repositories
          </label>
          <input id="top-q" name="q" type="search" placeholder="Search repositories" defaultValue={query.get('q') ?? ''} />
        </form>
      )}
      <nav aria-label="Account" class="account">
        {canWrite(session) && <Link href="/repositories">My repositories</Link>}
        {session?.username && <Link href="/orgs">Organisations</Link>}
        {session?.accounts && !session.username && <Link href={path === '/' || path === '/search' ? '/signin' : `/signin?next=${encodeURIComponent(path)}`}>Sign in</Link>}
        {session?.username && (
          <button type="button" class="link" onClick={() => void signOut().then(() => navigate('/'))}>
            Sign out <span class="muted">({session.username})</span>
          </button>
        )}
      </nav>
    </header>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link href="/">Back to search</Link>
      </p>
    </section>
  );
}

function Routes() {
  const { path } = useLocation();
  useEffect(() => {
    // After a navigation, keyboard and screen-reader users start at the new page's content,
    // unless the page already put focus somewhere in it (the search box).
    const main = document.getElementById('main');
    if (main && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }, [path]);
  let m: Record<string, string> | null;
  if (path === '/' || path === '/search') return <HomePage />;
  if (path === '/signin') return <SignInPage />;
  if (path === '/repositories') return <MyReposPage />;
  if (path === '/orgs') return <OrgsPage />;
  if ((m = match('/orgs/:org', path))) return <OrgPage org={m.org ?? ''} />;
  if ((m = match('/r/:ns/:name', path))) return <RepositoryPage ns={m.ns ?? ''} name={m.name ?? ''} tab="overview" />;
  if ((m = match('/r/:ns/:name/tags', path))) return <RepositoryPage ns={m.ns ?? ''} name={m.name ?? ''} tab="tags" />;
  if ((m = match('/r/:ns/:name/settings', path))) return <RepositoryPage ns={m.ns ?? ''} name={m.name ?? ''} tab="settings" />;
  if ((m = match('/r/:ns/:name/tags/:tag', path))) return <TagPage ns={m.ns ?? ''} name={m.name ?? ''} tag={m.tag ?? ''} />;
  if ((m = match('/r/:ns/:name/builds', path))) return <BuildsPage ns={m.ns ?? ''} name={m.name ?? ''} />;
  if ((m = match('/r/:ns/:name/builds/:id', path))) return <BuildLogPage ns={m.ns ?? ''} name={m.name ?? ''} id={m.id ?? ''} />;
  if ((m = match('/r/:ns/:name/webhooks', path))) return <WebhooksPage ns={m.ns ?? ''} name={m.name ?? ''} />;
  return <NotFound />;
}

function App() {
  const session = useSession();
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        {session ? <Routes /> : null}
      </main>
      <footer class="foot muted">
        gantry hub · <code>/v2/</code> registry API · <a href="https://docs.docker.com/docker-hub/">Docker Hub compatible</a>
      </footer>
    </>
  );
}

void loadSession();
render(<App />, document.getElementById('app') as HTMLElement);
