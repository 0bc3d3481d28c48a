/**
 * Unit tests of the descriptions' Markdown renderer: what it renders, and above all that no
 * raw HTML, script or unsafe link target ever comes out as markup.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, isSafeUrl, renderInline, renderMarkdown } from './markdown.js';

/** Every tag in the output, by name. */
const tags = (html: string) => [...html.matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((m) => m[1]?.toLowerCase());
const ALLOWED = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'del', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr']);

describe('renderMarkdown', () => {
  it('renders the common blocks', () => {
    assert.equal(renderMarkdown('# Title\n\nSome *fine* **bold** text.'), '<h1>Title</h1>\n<p>Some <em>fine</em> <strong>bold</strong> text.</p>');
    assert.equal(renderMarkdown('- one\n- two'), '<ul><li>one</li><li>two</li></ul>');
    assert.equal(renderMarkdown('1. a\n2. b'), '<ol><li>a</li><li>b</li></ol>');
    assert.equal(renderMarkdown('> quoted'), '<blockquote><p>quoted</p></blockquote>');
    assert.equal(renderMarkdown('---'), '<hr>');
    assert.equal(renderMarkdown('```sh\ndocker run <x> && echo "hi"\n```'), '<pre><code class="language-sh">docker run &lt;x&gt; &amp;&amp; echo &quot;hi&quot;</code></pre>');
    assert.equal(renderMarkdown('use `a <b> *c*` here'), '<p>use <code>a &lt;b&gt; *c*</code> here</p>');
  });

  it('shows raw HTML as text', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n\n# <b>hi</b>\n\n- <iframe src="javascript:alert(3)">');
    assert.ok(tags(html).every((t) => t && ALLOWED.has(t)), html);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /<img|<script|<iframe|<b>/);
  });

  it('links only http(s) URLs, with the URL escaped inside its attribute', () => {
    assert.equal(renderInline('[docs](https://example.com/a?b=1&c=2)'), '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">docs</a>');
    assert.equal(renderInline('<https://example.com>'), '<a href="https://example.com" rel="nofollow noopener noreferrer">https://example.com</a>');
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', '/relative', 'vbscript:x', '//evil.example']) {
      const html = renderInline(`[x](${bad})`);
      assert.doesNotMatch(html, /<a /, bad);
    }
    const quoteBreak = renderInline('[x](https://a.example/"onmouseover="alert(1))');
    assert.doesNotMatch(quoteBreak, /" onmouseover|"onmouseover="/);
    assert.ok(tags(quoteBreak).every((t) => t && ALLOWED.has(t)));
  });

  it('emphasis cannot make a tag out of escaped text', () => {
    const html = renderMarkdown('**<script>** *<img src=x onerror=1>* ~~<a href=javascript:1>~~');
    assert.deepEqual(new Set(tags(html)), new Set(['p', 'strong', 'em', 'del']));
  });

  it('escapeHtml and isSafeUrl', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.ok(isSafeUrl('http://x.example/y'));
    assert.ok(!isSafeUrl('https://x.example/ y'));
    assert.ok(!isSafeUrl('ftp://x.example'));
  });

  it('stays fast and shallow on hostile input', () => {
    const hostile = ['['.repeat(50_000), '**a '.repeat(20_000), '~~a '.repeat(20_000), '`'.repeat(30_000) + 'x', '>'.repeat(50_000) + ' deep', '*_~`[]('.repeat(10_000)];
    for (const input of hostile) {
      const started = performance.now();
      const html = renderMarkdown(input);
      assert.ok(performance.now() - started < 1000, `${input.slice(0, 12)}… took ${Math.round(performance.now() - started)} ms`);
      assert.ok(tags(html).every((t) => t && ALLOWED.has(t)));
    }
    assert.equal((renderMarkdown('> '.repeat(20) + 'x').match(/<blockquote>/g) ?? []).length, 8);
  });

  it('makes only its own tags and attributes out of random Markdown-ish input', () => {
    const alphabet = ['<', '>', '"', "'", '&', '*', '_', '~', '`', '[', ']', '(', ')', '#', '-', '1.', '\n', '\n\n', ' ', '    ', 'a', 'https://x.example/', 'javascript:', 'on', '=', '<script>', '<img src=x onerror=1>'];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 500; n++) {
      let doc = '';
      for (let k = next() % 80; k > 0; k--) doc += alphabet[next() % alphabet.length];
      const html = renderMarkdown(doc);
      assert.ok(tags(html).every((t) => t && ALLOWED.has(t)), doc);
      // The only attributes: href on links (http(s)), rel, and class on code blocks.
      for (const [, attr, value] of html.matchAll(/<[a-z0-9]+\s+[^>]*?([a-z-]+)="([^"]*)"/g)) {
        assert.ok(['href', 'rel', 'class'].includes(attr ?? ''), `${attr} in ${html}`);
        if (attr === 'href') assert.match(value ?? '', /^https?:\/\//);
      }
      assert.doesNotMatch(html, /<[a-z]+[^>]*\son[a-z]+=/i, doc);
    }
  });
});
