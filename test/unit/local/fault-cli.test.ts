import { describe, expect, it } from 'vitest';
import { parseFaultArg } from '../../../local/simulator/fault-cli.ts';
import { Faults } from '../../../local/simulator/faults.ts';

describe('parseFaultArg', () => {
  it('reads a method, a path glob and key=value pairs', () => {
    expect(
      parseFaultArg('POST /api/v1/cckm/aws/keys/*/cancel-deletion status=429 times=2 retryAfter=1'),
    ).toEqual({
      method: 'POST',
      path: '/api/v1/cckm/aws/keys/*/cancel-deletion',
      status: 429,
      times: 2,
      retryAfter: 1,
    });
  });

  it('reads a reset and a delay without a method', () => {
    expect(parseFaultArg('/api/v1/auth/tokens reset')).toEqual({ path: '/api/v1/auth/tokens', reset: true });
    expect(parseFaultArg('delayMs=9000 times=-1')).toEqual({ delayMs: 9000, times: -1 });
  });

  it('refuses a fault that does nothing, an unknown key and a non-integer status', () => {
    expect(() => parseFaultArg('POST /x')).toThrow(/status=<code>, delayMs=<ms> or reset/);
    expect(() => parseFaultArg('/x status=500 colour=red')).toThrow(/unknown key colour/);
    expect(() => parseFaultArg('/x status=abc')).toThrow(/status must be an integer/);
  });
});

describe('Faults', () => {
  it('consumes rules in order and only for matching method, path and body', () => {
    const f = new Faults(() => undefined);
    f.failNext(1, 503, { method: 'POST', path: '/a/*/c' });
    f.add({ path: '/a/b/c', status: 500, bodyIncludes: 'x', times: 2 });
    expect(f.take('GET', '/a/b/c', '')).toBeUndefined();
    expect(f.take('POST', '/a/b/c', '')?.status).toBe(503);
    expect(f.take('POST', '/a/b/c', '')).toBeUndefined();
    expect(f.take('POST', '/a/b/c', 'xyz')?.status).toBe(500);
    expect(f.pending()).toEqual([expect.objectContaining({ remaining: 1, hits: 1 })]);
  });

  it('refuses a rule without an effect and calls the expire hook', () => {
    let expired = 0;
    const f = new Faults(() => {
      expired += 1;
    });
    expect(() => f.add({ path: '/x' })).toThrow(/needs status, reset or delayMs/);
    f.expireAllTokens();
    expect(expired).toBe(1);
  });
});
