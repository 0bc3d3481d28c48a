/** Sign in with a hub account (`POST /api/session`); goes back to `?next=` afterwards. */
import { useState } from 'preact/hooks';
import { ErrorNote } from '../components';
import { navigate, useLocation } from '../router';
import { signIn } from '../session';

export function SignInPage() {
  const { query } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(f.get('username') ?? ''), String(f.get('password') ?? ''));
      const next = query.get('next') ?? '/repositories';
      navigate(next.startsWith('/') && !next.startsWith('//') && next !== '/signin' ? next : '/repositories');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <form class="stack" onSubmit={submit}>
        <label for="username">Username</label>
        <input id="username" name="username" autoComplete="username" required autoFocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
