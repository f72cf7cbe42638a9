import { describe, expect, it } from 'vitest';
import {
  type AttemptOutcome,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  retryWithBudget,
} from '../../../functions/adapters/retry.ts';
import { TimeoutError, UpstreamError } from '../../../functions/shared/errors.ts';

describe('retry classification', () => {
  it.each([
    [429, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [422, false],
    [500, false],
  ])('status %i retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });

  it.each([
    ['ECONNRESET', true],
    ['ECONNREFUSED', true],
    ['UND_ERR_SOCKET', true],
    ['UND_ERR_CONNECT_TIMEOUT', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', false],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', false],
  ])('network error %s retryable: %s', (code, expected) => {
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });

  it('finds the code on a wrapped cause', () => {
    const inner = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    expect(isRetryableNetworkError(new Error('fetch failed', { cause: inner }))).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  it.each([
    ['3', 3000],
    ['0', 0],
    [['2', '9'], 2000],
    ['Sat, 28 Nov 2026 12:00:05 GMT', 5000],
    ['Sat, 28 Nov 2026 11:59:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('doubles from 100 ms up to the 2 s cap with random() at its top', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, DEFAULT_RETRY_POLICY, () => 0.999999));
    expect(delays).toEqual([99, 199, 399, 799, 1599, 1999, 1999]);
  });

  it('is full jitter: random() of 0 waits 0', () => {
    expect(backoffDelay(4, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
  });
});

describe('retryWithBudget', () => {
  function setup(budgetMs: number) {
    let t = 0;
    const sleeps: number[] = [];
    return {
      sleeps,
      options: {
        budgetEnd: budgetMs,
        label: 'GET /api/v1/x',
        now: () => t,
        sleep: async (ms: number) => {
          sleeps.push(ms);
          t += ms;
        },
        random: () => 1,
      },
    };
  }
  const retryable = (status = 503, retryAfterMs?: number): AttemptOutcome<string> => ({
    ok: false,
    error: new UpstreamError(`status ${status}`, { status }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });

  it('returns the first success after retryable failures, waiting with backoff', async () => {
    const { options, sleeps } = setup(10_000);
    const outcomes = [retryable(), retryable(502), { ok: true as const, value: 'done' }];
    let calls = 0;
    await expect(retryWithBudget(async () => outcomes[calls++]!, options)).resolves.toBe('done');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('stops after 6 attempts and throws the last failure', async () => {
    const { options, sleeps } = setup(60_000);
    let calls = 0;
    const run = retryWithBudget(async () => {
      calls++;
      return retryable(504);
    }, options);
    await expect(run).rejects.toMatchObject({ detail: { status: 504 } });
    expect(calls).toBe(6);
    expect(sleeps).toHaveLength(5);
  });

  it('honours Retry-After instead of the backoff', async () => {
    const { options, sleeps } = setup(10_000);
    const outcomes = [retryable(429, 1500), { ok: true as const, value: 'ok' }];
    let calls = 0;
    await retryWithBudget(async () => outcomes[calls++]!, options);
    expect(sleeps).toEqual([1500]);
  });

  it('does not wait for a Retry-After that ends past the budget', async () => {
    const { options, sleeps } = setup(2000);
    let calls = 0;
    const run = retryWithBudget(async () => {
      calls++;
      return retryable(429, 2000);
    }, options);
    await expect(run).rejects.toMatchObject({ detail: { status: 429 } });
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('stops retrying when the next backoff would overrun the budget', async () => {
    const { options, sleeps } = setup(350);
    let calls = 0;
    await expect(
      retryWithBudget(async () => {
        calls++;
        return retryable();
      }, options),
    ).rejects.toBeInstanceOf(UpstreamError);
    expect(sleeps).toEqual([100, 200]);
    expect(calls).toBe(3);
  });

  it('propagates a thrown (non-retryable) error after one attempt', async () => {
    const { options } = setup(10_000);
    let calls = 0;
    const boom = new Error('boom');
    await expect(
      retryWithBudget(async () => {
        calls++;
        throw boom;
      }, options),
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
  });

  it('turns an attempt cut off by the budget into a TimeoutError', async () => {
    const run = retryWithBudget(
      (budget) =>
        new Promise<AttemptOutcome<string>>((_, reject) => {
          budget.watch(reject);
        }),
      {
        budgetEnd: Date.now() + 50,
        label: 'GET /api/v1/slow',
        now: Date.now,
        sleep: async () => {},
        random: () => 1,
      },
    );
    await expect(run).rejects.toBeInstanceOf(TimeoutError);
    await expect(run).rejects.toThrow('GET /api/v1/slow ran out of its time budget');
  });

  it('throws a TimeoutError without an attempt when the budget is already spent', async () => {
    let calls = 0;
    const run = retryWithBudget(
      async () => {
        calls++;
        return { ok: true as const, value: 1 };
      },
      { budgetEnd: 100, label: 'x', now: () => 100, sleep: async () => {}, random: () => 1 },
    );
    await expect(run).rejects.toBeInstanceOf(TimeoutError);
    expect(calls).toBe(0);
  });
});
