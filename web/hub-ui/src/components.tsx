/** Small pieces shared by the pages: data loading, errors, the copy-able command line, Markdown. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { renderMarkdown } from '../../../src/registry/ui/markdown';
import { ApiError } from './api';

/** Loads data for a page; `reload` fetches again (after a change). */
export function useData<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: Error | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [gen, setGen] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, gen]);
  const reload = useCallback(() => setGen((g) => g + 1), []);
  return { ...state, reload };
}

/** An error message, announced to screen readers. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? `${error.message}${error.status ? ` (${error.status})` : ''}` : String((error as Error).message ?? error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** "Loading…" with a live region. */
export function Loading() {
  return (
    <p class="muted" role="status">
      Loading…
    </p>
  );
}

/** A command with a copy button (the clipboard API, falling back to selecting the text). */
export function CopyLine({ command, label }: { command: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async (e: Event) => {
    const input = (e.currentTarget as HTMLElement).parentElement?.querySelector('input');
    try {
      await navigator.clipboard.writeText(command);
    } catch {
      input?.select();
      document.execCommand?.('copy');
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div class="copyline">
      <input readOnly value={command} aria-label={label} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
      <button type="button" onClick={copy} aria-label={`Copy: ${command}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

/**
 * A Markdown description. NOTE: the HTML comes from renderMarkdown, which escapes the whole
 * source before writing its own tags (src/registry/ui/markdown.ts) — never from user HTML.
 */
export function Markdown({ source }: { source: string }) {
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(source) }} />;
}

/** Runs an async action from a button or form, with its pending state and error. */
export function useAction(): { busy: boolean; error: unknown; run: (f: () => Promise<unknown>) => Promise<boolean>; setError: (e: unknown) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
