import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseInbound, verifySignature } from './inbound.js';

describe('inbound push webhooks', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const good = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;

  it('verify the HMAC-SHA256 signature of the raw body', () => {
    assert.equal(verifySignature('s3cret', body, good), true);
    assert.equal(verifySignature('s3cret', body, good.toUpperCase().replace('SHA256', 'sha256')), true);
    assert.equal(verifySignature('other', body, good), false);
    assert.equal(verifySignature('s3cret', Buffer.concat([body, Buffer.from(' ')]), good), false);
    assert.equal(verifySignature('s3cret', body, undefined), false);
    assert.equal(verifySignature('s3cret', body, good.slice(0, -2)), false);
    assert.equal(verifySignature('', body, good), false);
  });

  it("read GitHub's ref, commit and deletions", () => {
    const push = (doc: unknown) => parseInbound('github', { 'x-github-event': 'push' }, Buffer.from(JSON.stringify(doc)));
    assert.deepEqual(push({ ref: 'refs/tags/v1', after: 'abc', repository: { clone_url: 'https://x/y.git' } }), {
      kind: 'push',
      refs: [{ type: 'tag', name: 'v1', commit: 'abc' }],
      sourceUrl: 'https://x/y.git',
    });
    assert.deepEqual(push({ ref: 'refs/heads/main', after: '000', deleted: true }), { kind: 'push', refs: [], sourceUrl: undefined });
    assert.deepEqual(parseInbound('github', { 'x-github-event': 'ping' }, Buffer.from('{}')), { kind: 'ignored', event: 'ping' });
    assert.equal(parseInbound('github', { 'x-github-event': 'push' }, Buffer.from('not json')), undefined);
  });

  it("read Bitbucket's changes, skipping deleted refs", () => {
    const doc = {
      push: { changes: [{ new: { type: 'branch', name: 'main', target: { hash: 'h1' } } }, { new: null, old: { type: 'tag', name: 'v0' } }] },
      repository: { full_name: 'team/bb', links: { html: { href: 'https://bitbucket.org/team/bb' } } },
    };
    assert.deepEqual(parseInbound('bitbucket', { 'x-event-key': 'repo:push' }, Buffer.from(JSON.stringify(doc))), {
      kind: 'push',
      refs: [{ type: 'branch', name: 'main', commit: 'h1' }],
      sourceUrl: 'https://bitbucket.org/team/bb',
    });
  });
});
