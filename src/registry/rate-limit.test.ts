import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHubError } from './errors.js';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then the rate, per client, with Retry-After', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    for (let i = 0; i < 3; i++) limiter.take('a');
    assert.throws(
      () => limiter.take('a'),
      (e) => isHubError(e, 'TOOMANYREQUESTS') && e.status === 429 && e.headers['Retry-After'] === '1',
    );
    limiter.take('b');
    now += 500; // one token back at 2/s
    limiter.take('a');
    assert.throws(() => limiter.take('a'));
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter(0, 0);
    for (let i = 0; i < 100; i++) limiter.take('a');
  });
});
