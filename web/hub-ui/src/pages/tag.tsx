/** One tag's image: its layers with their sizes and the history commands that made them. */
import { useState } from 'preact/hooks';
import { api, type Layers, repoPath, type Tag } from '../api';
import { ErrorNote, Loading, useData } from '../components';
import { formatSize, shortDigest, timeAgo } from '../format';
import { RepoHeader, useRepository } from './repository';

export function TagPage({ ns, name, tag }: { ns: string; name: string; tag: string }) {
  const repo = useRepository(ns, name);
  const tags = useData(() => api<Tag[]>('GET', repoPath(ns, name, '/tags')), [ns, name]);
  const info = tags.data?.find((t) => t.name === tag);
  const [platform, setPlatform] = useState<string | null>(null);
  const chosen = platform ?? info?.platforms[0] ?? '';
  const layers = useData(
    () => api<Layers>('GET', repoPath(ns, name, `/tags/${encodeURIComponent(tag)}/layers${chosen ? `?platform=${encodeURIComponent(chosen)}` : ''}`)),
    [ns, name, tag, chosen],
  );
  if (repo.error) return <ErrorNote error={repo.error} />;
  if (!repo.data) return <Loading />;
  return (
    <section>
      <RepoHeader repo={repo.data} tab="tags" />
      <h2>
        Tag <code>{tag}</code>
      </h2>
      {info && (
        <p class="meta muted">
          <code title={info.digest}>{shortDigest(info.digest)}</code> · {formatSize(info.size)} · pushed {timeAgo(info.pushed_at)}
        </p>
      )}
      {info && info.platforms.length > 1 && (
        <p>
          <label for="platform">Platform </label>
          <select id="platform" value={chosen} onChange={(e) => setPlatform((e.currentTarget as HTMLSelectElement).value)}>
            {info.platforms.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </p>
      )}
      {layers.error && <ErrorNote error={layers.error} />}
      {layers.loading && !layers.data && <Loading />}
      {layers.data && (
        <>
          <h3>Image layers</h3>
          <ol class="layers" aria-label="Image history">
            {layers.data.history.map((h, i) => (
              <li key={i} class={h.empty_layer ? 'empty' : ''}>
                <code class="cmd">{cleanCommand(h.created_by)}</code>
                <span class="size">{h.empty_layer ? '0 B' : formatSize(h.size)}</span>
              </li>
            ))}
          </ol>
          <h3>Layer blobs</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                {layers.data.layers.map((l, i) => (
                  <tr key={l.digest + i}>
                    <td>{i + 1}</td>
                    <td>
                      <code title={l.digest}>{shortDigest(l.digest)}</code>
                    </td>
                    <td>{formatSize(l.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** `/bin/sh -c #(nop) CMD ["sh"]` → `CMD ["sh"]`, `/bin/sh -c echo` → `RUN echo`, as Docker Hub shows them. */
function cleanCommand(cmd: string | undefined): string {
  if (!cmd) return '—';
  const nop = /^\/bin\/sh -c #\(nop\)\s*(.*)$/s.exec(cmd);
  if (nop) return (nop[1] ?? '').trim();
  const run = /^\/bin\/sh -c (.*)$/s.exec(cmd);
  return run ? `RUN ${run[1]}` : cmd;
}
