/**
 * The signed-in session, shared by every page: loaded once from `GET /api/session`, changed by
 * sign-in and sign-out; pages read it with {@link useSession}.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Session, setCsrfToken } from './api';

let current: Session | null = null;
const listeners = new Set<() => void>();

function set(s: Session): void {
  current = s;
  setCsrfToken(s.csrfToken);
  for (const l of listeners) l();
}

/** Reads the session from the hub (at start and after sign-in/out). */
export async function loadSession(): Promise<void> {
  try {
    set(await api<Session>('GET', '/api/session'));
  } catch {
    set({ username: null, csrfToken: null, accounts: true });
  }
}

/** Signs in; rejects with the API's error on bad credentials. */
export async function signIn(username: string, password: string): Promise<void> {
  const s = await api<{ username: string; csrfToken: string }>('POST', '/api/session', { username, password });
  set({ username: s.username, csrfToken: s.csrfToken, accounts: true });
}

/** Signs out (the session cookie is dropped by the hub). */
export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/api/session');
  } finally {
    set({ username: null, csrfToken: null, accounts: current?.accounts ?? true });
  }
}

/** The session (null while loading); re-renders the caller when it changes. */
export function useSession(): Session | null {
  const [, setSeen] = useState(current);
  useEffect(() => {
    const l = () => setSeen(current);
    listeners.add(l);
    // NOTE: effects run after the first paint; the session may have arrived in between, unseen.
    l();
    return () => void listeners.delete(l);
  }, []);
  return current;
}

/** True when the visitor may change things: signed in, or a hub without accounts. */
export function canWrite(s: Session | null): boolean {
  return !!s && (!s.accounts || !!s.username);
}
