import { randomUUID } from 'node:crypto';
import type { FaultRuleState, FaultSpec } from '../faults.ts';
import type { Reply } from '../http.ts';
import type { KeyStore, SeedKey } from '../store.ts';
import type { Simulator } from '../types.ts';
import type { SimContext } from './context.ts';
import type { SyncJobRoutes } from './sync-jobs.ts';

/**
 * The control API under `/__sim/` (not `/api/v1`, no token), used by `local/sim-ctl.ts`:
 * `GET state | counters | ca.pem | keys | sync-jobs`; `POST faults` (a `FaultSpec` as JSON, `times`
 * -1 for unlimited), `DELETE faults`; `POST expire-tokens | reset | clock {advanceSec}`;
 * `POST keys/generate-pending {count}`; `POST keys/<id|name>/schedule-deletion-in-aws {days} |
 * aws-state {...} | sync`; `POST sync-jobs {kms?, regions?, synchronize_all?}` (starts a job as the
 * API would), `POST sync-jobs/complete {id?}`, `POST sync-jobs/delay {ms}`.
 */
export type ControlHandler = (method: string, url: URL, rawBody: string) => Reply;

export function createControl(
  ctx: SimContext,
  deps: { sim: () => Simulator; caPem: string; log: () => unknown[]; jobs: SyncJobRoutes },
): ControlHandler {
  const { store, faults } = ctx;
  let generated = 0;
  const generatedKey = (): SeedKey => {
    generated += 1;
    const n = generated;
    return {
      name: `gen-${n}`,
      kms: 'kms-bulk',
      account: '210987654321',
      region: ['us-east-1', 'us-west-2', 'eu-west-1'][n % 3]!,
      keyId: randomUUID(),
      state: 'PendingDeletion' as const,
      pendingWindowInDays: 7 + (n % 24),
      aliases: [`alias/gen-${n}`],
      tags: { env: 'load' },
    };
  };

  return (method, url, rawBody) => {
    let body: Record<string, unknown> = {};
    try {
      body = rawBody.trim() ? (JSON.parse(rawBody) as Record<string, unknown>) : {};
    } catch {
      return { status: 400, body: { error: 'invalid JSON' } };
    }
    const p = url.pathname;
    const sim = deps.sim();
    try {
      if (method === 'GET' && p === '/__sim/state') {
        return {
          status: 200,
          body: {
            url: sim.url,
            counters: ctx.counters(),
            requests: deps.log(),
            faults: faults.list().map(serializableRule),
            syncJobs: deps.jobs.api.list(),
          },
        };
      }
      if (method === 'GET' && p === '/__sim/counters') return { status: 200, body: ctx.counters() };
      if (method === 'GET' && p === '/__sim/ca.pem') {
        return { status: 200, body: deps.caPem, headers: { 'content-type': 'application/x-pem-file' } };
      }
      if (method === 'GET' && p === '/__sim/keys') {
        return { status: 200, body: store.list().map((r) => ({ ...r, aws_truth: store.aws(r.id) })) };
      }
      if (method === 'POST' && p === '/__sim/faults') {
        return { status: 201, body: { id: faults.add(body as FaultSpec) } };
      }
      if (method === 'DELETE' && p === '/__sim/faults') {
        faults.clear();
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/expire-tokens') {
        faults.expireAllTokens();
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/reset') {
        sim.reset({ keepKeys: body.keepKeys === true });
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/clock') {
        sim.advanceClock(Number(body.advanceSec ?? 0));
        return { status: 204 };
      }
      if (method === 'POST' && p === '/__sim/keys/generate-pending') {
        const n = Number(body.count ?? 0);
        if (!Number.isInteger(n) || n < 1 || n > 100_000)
          return { status: 400, body: { error: 'count 1..100000' } };
        for (let i = 0; i < n; i++) store.add(generatedKey());
        return { status: 201, body: { added: n, total: store.size } };
      }
      const jobsReply = syncJobControl(method, p, body, deps.jobs);
      if (jobsReply) return jobsReply;
      const k = /^\/__sim\/keys\/([^/]+)\/(schedule-deletion-in-aws|aws-state|sync)$/.exec(p);
      if (method === 'POST' && k) return keyControl(store, decodeURIComponent(k[1]!), k[2]!, body);
    } catch (e) {
      return { status: 400, body: { error: e instanceof Error ? e.message : String(e) } };
    }
    return { status: 404, body: { error: `no control route ${method} ${p}` } };
  };
}

function syncJobControl(
  method: string,
  p: string,
  body: Record<string, unknown>,
  jobs: SyncJobRoutes,
): Reply | undefined {
  if (method === 'GET' && p === '/__sim/sync-jobs') return { status: 200, body: jobs.api.list() };
  if (method === 'POST' && p === '/__sim/sync-jobs') return jobs.start(body);
  if (method === 'POST' && p === '/__sim/sync-jobs/complete') {
    if (body.id !== undefined && typeof body.id !== 'string')
      return { status: 400, body: { error: 'id must be a string' } };
    return { status: 200, body: jobs.api.completeNow(body.id) };
  }
  if (method === 'POST' && p === '/__sim/sync-jobs/delay') {
    jobs.api.delayMs = Number(body.ms);
    return { status: 200, body: { delayMs: jobs.api.delayMs } };
  }
  return undefined;
}

function keyControl(store: KeyStore, given: string, what: string, body: Record<string, unknown>): Reply {
  // Seeded handles (`payments`) work as well as CCKM ids, for the command line.
  const id = store.has(given) || given.startsWith('arn:') ? given : store.byName(given).id;
  if (what === 'schedule-deletion-in-aws') {
    return { status: 200, body: store.scheduleDeletionInAws(id, Number(body.days ?? 30)) };
  }
  if (what === 'aws-state') {
    store.setAwsState(id, body as Parameters<KeyStore['setAwsState']>[1]);
    return { status: 200, body: store.aws(id) };
  }
  store.sync(id);
  return { status: 200, body: store.get(id) };
}

function serializableRule(r: FaultRuleState): Record<string, unknown> {
  return {
    id: r.id,
    hits: r.hits,
    remaining: Number.isFinite(r.remaining) ? r.remaining : -1,
    spec: { ...r.spec, path: String(r.spec.path ?? '*') },
  };
}
