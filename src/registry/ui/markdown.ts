/**
 * A small Markdown renderer for repository descriptions, safe by construction: every piece of
 * the source is HTML-escaped before any markup is made, and the only tags in the output are the
 * ones this module writes. Raw HTML in a description is shown as text, never interpreted; link
 * targets must be http(s) URLs (anything else — `javascript:`, `data:`, relative — stays text).
 *
 * Why our own: the hub's UI must never put user HTML into the page, and a sanitizer after a
 * full Markdown engine is two large moving parts where escaping first plus a few rules is one
 * small one. It covers what READMEs on a registry use: headings, paragraphs, emphasis, inline
 * and fenced code, links, lists, block quotes and rules. It has no imports so that both the
 * root build (unit tests) and the UI's Vite build compile it.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** True for an absolute http(s) URL without spaces or control characters (the only link targets kept). */
export function isSafeUrl(url: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^https?:\/\/[^\s\x00-\x1f]+$/i.test(url);
}

/** Inline Markdown of one block's text: code spans first (their content is literal), then the rest. */
export function renderInline(text: string): string {
  const parts = text.split(/(`+)([^`]|[^`][\s\S]{0,4000}?[^`])\1(?!`)/);
  let out = '';
  // split with two groups yields: text, fence, code, text, fence, code, ...
  for (let i = 0; i < parts.length; i += 3) {
    out += inlineText(parts[i] ?? '');
    if (i + 2 < parts.length) out += `<code>${escapeHtml((parts[i + 2] ?? '').trim() || (parts[i + 2] ?? ''))}</code>`;
  }
  return out;
}

function inlineText(raw: string): string {
  // Links are found on the raw text (so the URL is checked as written), everything else escaped.
  let out = '';
  let last = 0;
  const link = /\[([^\]\n]{1,500})\]\(\s*([^()\s]{1,2000})(?:\s+"[^"\n]{0,500}")?\s*\)|<(https?:\/\/[^\s<>]{1,2000})>/g;
  for (let m = link.exec(raw); m; m = link.exec(raw)) {
    out += emphasis(escapeHtml(raw.slice(last, m.index)));
    const [label, url] = m[3] ? [m[3], m[3]] : [m[1] ?? '', m[2] ?? ''];
    out += isSafeUrl(url)
      ? `<a href="${escapeHtml(url)}" rel="nofollow noopener noreferrer">${emphasis(escapeHtml(label))}</a>`
      : emphasis(escapeHtml(m[0]));
    last = m.index + m[0].length;
  }
  return out + emphasis(escapeHtml(raw.slice(last)));
}

/** Emphasis on already-escaped text: the patterns cannot create a tag of their own. */
function emphasis(html: string): string {
  return html
    .replace(/\*\*(?=\S)([\s\S]{0,1000}?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/__(?=\S)([\s\S]{0,1000}?\S)__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*(?=\S)([^*]{0,1000}?\S)\*(?![*\w])/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_(?=\S)([^_]{0,1000}?\S)_(?![_\w])/g, '$1<em>$2</em>')
    .replace(/~~(?=\S)([\s\S]{0,1000}?\S)~~/g, '<del>$1</del>');
}

/**
 * Renders Markdown to HTML that contains only this module's tags (see the module comment).
 * NOTE: every pattern has bounded spans and quotes nest at most 8 deep, so a hostile
 * description cannot make a visitor's tab spin (quadratic backtracking) or overflow the stack.
 */
export function renderMarkdown(source: string, depth = 0): string {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  const isBlank = (l: string) => l.trim() === '';
  const listItem = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = /^\s{0,3}(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (fence) {
      const close = fence[1] ?? '```';
      const code: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trimStart().startsWith(close)) code.push(lines[i++] ?? '');
      i++;
      const lang = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : '';
      out.push(`<pre><code${lang}>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = (heading[1] ?? '#').length;
      out.push(`<h${level}>${renderInline(heading[2] ?? '')}</h${level}>`);
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push('<hr>');
      i++;
      continue;
    }
    if (/^ {4}|^\t/.test(line)) {
      const code: string[] = [];
      while (i < lines.length && (/^ {4}|^\t/.test(lines[i] ?? '') || (isBlank(lines[i] ?? '') && /^ {4}|^\t/.test(lines[i + 1] ?? '')))) {
        code.push((lines[i++] ?? '').replace(/^ {4}|^\t/, ''));
      }
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    if (depth < 8 && /^\s{0,3}>/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i] ?? '')) quoted.push((lines[i++] ?? '').replace(/^\s{0,3}>\s?/, ''));
      out.push(`<blockquote>${renderMarkdown(quoted.join('\n'), depth + 1)}</blockquote>`);
      continue;
    }
    const item = listItem.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1] ?? '');
      const items: string[] = [];
      while (i < lines.length) {
        const m = listItem.exec(lines[i] ?? '');
        if (!m || /\d/.test(m[1] ?? '') !== ordered) break;
        let text = m[2] ?? '';
        i++;
        // Continuation lines (indented, not a new item) belong to the item.
        while (i < lines.length && !isBlank(lines[i] ?? '') && !listItem.exec(lines[i] ?? '') && /^\s+/.test(lines[i] ?? '')) {
          text += ` ${(lines[i++] ?? '').trim()}`;
        }
        items.push(`<li>${renderInline(text)}</li>`);
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.join('')}</${tag}>`);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      !isBlank(lines[i] ?? '') &&
      // The first line always belongs here (nothing above took it), so the loop always advances.
      (para.length === 0 || !/^\s{0,3}(#{1,6}\s|```|~~~|>)/.test(lines[i] ?? '')) &&
      !(para.length > 0 && listItem.test(lines[i] ?? ''))
    ) {
      para.push((lines[i++] ?? '').trim());
    }
    out.push(`<p>${renderInline(para.join('\n'))}</p>`);
  }
  return out.join('\n');
}
