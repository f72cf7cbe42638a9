import { afterEach, describe, expect, it } from 'vitest';
import type { ManagedKey } from '../../../functions/domain/managed-key.ts';
import { UpstreamError, ValidationError } from '../../../functions/shared/errors.ts';
import {
  createHarness,
  type Harness,
  interceptTokens,
  JSON_HEADERS,
  keyRecord,
  makeJwt,
  numberedCckmId,
  queryOf,
} from '../../helpers/cm-fakes.ts';

/* The client's Region-filtered listing and synchronization-job start (contract section 4, SWEEP_SYNC). */

const T0 = Date.parse('2026-11-28T12:00:00Z');
const JWT = makeJwt({ sub: 'guard', iat: T0 / 1000, exp: T0 / 1000 + 300 }, 'first');
const JOBS = '/api/v1/cckm/aws/synchronization-jobs';

let h: Harness;
afterEach(async () => {
  h.mockAgent.assertNoPendingInterceptors();
  h.sm.reset();
  await h.mockAgent.close();
});

function interceptRunning(total: number, seen: URLSearchParams[] = []) {
  h.pool.intercept({ path: (p) => p.startsWith(`${JOBS}?`), method: 'GET' }).reply((opts) => {
    seen.push(queryOf(opts.path));
    return {
      statusCode: 200,
      data: { skip: 0, limit: 1, total, resources: [] },
      responseOptions: { headers: JSON_HEADERS },
    };
  });
}

/** Answers the job start with `reply` (201); the returned function gives the body the client sent. */
function interceptStart(reply: Record<string, unknown>): () => unknown {
  let body: unknown;
  h.pool
    .intercept({
      path: JOBS,
      method: 'POST',
      body: (b) => {
        body = JSON.parse(b);
        return true;
      },
    })
    .reply(201, reply, { headers: JSON_HEADERS });
  return () => body;
}

describe('listPendingDeletion with regions', () => {
  it('sends one repeated region filter per Region and drops records of other Regions', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    const seen: URLSearchParams[] = [];
    const records = [
      keyRecord({ id: numberedCckmId(1), region: 'eu-west-1' }),
      keyRecord({ id: numberedCckmId(2), region: 'us-east-1' }),
    ];
    h.pool.intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' }).reply((opts) => {
      seen.push(queryOf(opts.path));
      return {
        statusCode: 200,
        data: { skip: 0, limit: 100, total: 2, resources: records },
        responseOptions: { headers: JSON_HEADERS },
      };
    });
    const keys: ManagedKey[] = [];
    for await (const k of h.client.listPendingDeletion({ regions: ['eu-west-1', 'ap-south-1'] })) {
      if (!('unreadable' in k)) keys.push(k);
    }
    expect(seen[0]?.getAll('region')).toEqual(['eu-west-1', 'ap-south-1']);
    expect(keys.map((k) => k.cckmId)).toEqual([numberedCckmId(1)]);
  });

  it('refuses a Region that is not a Region name before any call', async () => {
    h = createHarness();
    const list = async () => {
      for await (const _ of h.client.listPendingDeletion({ regions: ['eu-west-1&keystate=Enabled'] })) {
        // nothing: the listing must not start
      }
    };
    await expect(list()).rejects.toThrow(ValidationError);
  });
});

describe('startSynchronization', () => {
  it('starts a job over the listed Regions when none is running', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    const seen: URLSearchParams[] = [];
    interceptRunning(0, seen);
    const sent = interceptStart({ id: 'job-1', status: 'in_progress' });
    await expect(h.client.startSynchronization({ regions: ['eu-west-1', 'ap-south-1'] })).resolves.toBe(
      'started',
    );
    expect(seen[0]?.get('status')).toBe('in_progress');
    expect(sent()).toEqual({ regions: ['eu-west-1', 'ap-south-1'] });
  });

  it('asks for synchronize_all without Regions', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    interceptRunning(0);
    const sent = interceptStart({ id: 'job-1' });
    await expect(h.client.startSynchronization({})).resolves.toBe('started');
    expect(sent()).toEqual({ synchronize_all: true });
  });

  it('asks for synchronize_all when the Regions are given as undefined (a scope of every Region)', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    interceptRunning(0);
    const sent = interceptStart({ id: 'job-1' });
    await expect(h.client.startSynchronization({ regions: undefined })).resolves.toBe('started');
    expect(sent()).toEqual({ synchronize_all: true });
  });

  it('starts nothing when a job is in progress', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    interceptRunning(1);
    await expect(h.client.startSynchronization({ regions: ['eu-west-1'] })).resolves.toBe('already-running');
  });

  it('reads 409 NCERRConflict (a job started in between) as already running', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    interceptRunning(0);
    h.pool.intercept({ path: JOBS, method: 'POST' }).reply(
      409,
      { code: 20, codeDesc: 'NCERRConflict: a synchronization job is already in progress' },
      {
        headers: JSON_HEADERS,
      },
    );
    await expect(h.client.startSynchronization({})).resolves.toBe('already-running');
  });

  it('reports any other refusal as an UpstreamError', async () => {
    h = createHarness();
    interceptTokens(h.pool, JWT);
    interceptRunning(0);
    h.pool
      .intercept({ path: JOBS, method: 'POST' })
      .reply(400, { code: 15, codeDesc: 'NCERRBadRequest: bad regions' }, { headers: JSON_HEADERS });
    await expect(h.client.startSynchronization({ regions: ['eu-west-1'] })).rejects.toThrow(UpstreamError);
  });
});
