import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerChallenge, covers, formatScope, parseScope, parseScopes, scopeOfNeed } from './scope.js';

describe('token scopes', () => {
  it('parse the scope grammar, names with colons and resource classes included', () => {
    assert.deepEqual(parseScope('repository:alice/web:pull,push'), { type: 'repository', name: 'alice/web', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository:localhost:5000/a:pull'), { type: 'repository', name: 'localhost:5000/a', actions: ['pull'] });
    assert.deepEqual(parseScope('repository(plugin):a/b:pull'), { type: 'repository', name: 'a/b', actions: ['pull'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository:a:pull,pull'), { type: 'repository', name: 'a', actions: ['pull'] });
    for (const bad of ['', 'repository', 'repository:a', ':a:pull', 'repository::pull', 'repository:a:', 'repository:a:PULL', 'Repo:a:pull']) {
      assert.equal(parseScope(bad), undefined, bad);
    }
  });

  it('take scopes from repeated parameters and space-separated lists, merging by resource', () => {
    const { scopes, invalid } = parseScopes(['repository:a:pull repository:b:pull', 'repository:a:push', 'junk']);
    assert.deepEqual(scopes, [
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b', actions: ['pull'] },
    ]);
    assert.deepEqual(invalid, ['junk']);
    assert.equal(formatScope(scopes[0]!), 'repository:a:pull,push');
  });

  it('name the scope of a need, and check that granted access covers it', () => {
    assert.equal(scopeOfNeed({ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }), 'repository:a/b:pull,push');
    assert.equal(scopeOfNeed({ type: 'catalog' }), 'registry:catalog:*');
    assert.equal(scopeOfNeed({ type: 'base' }), undefined);
    const access = [
      { type: 'repository', name: 'a/b', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ];
    assert.equal(covers(access, { type: 'repository', name: 'a/b', actions: ['pull'] }), true);
    assert.equal(covers(access, { type: 'repository', name: 'a/b', actions: ['pull', 'push'] }), false);
    assert.equal(covers(access, { type: 'repository', name: 'a/c', actions: ['pull'] }), false);
    assert.equal(covers(access, { type: 'catalog' }), true);
    assert.equal(covers([], { type: 'catalog' }), false);
    assert.equal(covers([], { type: 'base' }), true);
    assert.equal(covers([{ type: 'registry', name: 'a/b', actions: ['pull'] }], { type: 'repository', name: 'a/b', actions: ['pull'] }), false);
  });

  it('write challenges with quoted, escaped values', () => {
    assert.equal(
      bearerChallenge({ realm: 'http://h/token', service: 'hub', scope: 'repository:a:pull', error: 'insufficient_scope' }),
      'Bearer realm="http://h/token",service="hub",scope="repository:a:pull",error="insufficient_scope"',
    );
    assert.equal(bearerChallenge({ realm: 'r', service: 'a"b\\c' }), 'Bearer realm="r",service="a\\"b\\\\c"');
  });
});
