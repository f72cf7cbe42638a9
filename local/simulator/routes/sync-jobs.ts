import { randomUUID } from 'node:crypto';
import { badParam, cmError, isReply, notFound, parsePaging, type Reply } from '../http.ts';
import type { SimSyncJob, SimSyncJobs, SyncJobStatus } from '../types.ts';
import type { SimContext } from './context.ts';

/**
 * CCKM AWS synchronization jobs (reference/cckm-api.md section 3): `POST
 * /api/v1/cckm/aws/synchronization-jobs` starts one (201, `in_progress`); it completes after the
 * configured delay, when CCKM's copies of the keys in its scope are refreshed from the AWS truth.
 * One job at a time: a second start while one runs is 409 `NCERRConflict`.
 */
export interface SyncJobRoutes {
  start(body: Record<string, unknown>): Reply;
  get(id: string): Reply;
  list(q: URLSearchParams): Reply;
  cancel(id: string): Reply;
  readonly api: SimSyncJobs;
  /** Forgets every job (simulator reset). */
  clear(): void;
}

type JobState = { -readonly [K in keyof SimSyncJob]: SimSyncJob[K] } & { dueMs: number };

const STATUSES: readonly SyncJobStatus[] = ['in_progress', 'completed', 'cancelled'];
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

function stringList(body: Record<string, unknown>, name: string): string[] | Reply {
  const v = body[name];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || x.length > 128)) {
    return badParam(`${name} must be an array of non-empty strings`);
  }
  return [...new Set(v as string[])];
}

export function createSyncJobRoutes(ctx: SimContext): SyncJobRoutes {
  let jobs = new Map<string, JobState>();
  let delayMs = ctx.options.syncJobDelayMs ?? 200;
  const iso = (): string => new Date(ctx.now()).toISOString();
  const view = (j: JobState): SimSyncJob => {
    const { dueMs: _due, ...rest } = j;
    return structuredClone(rest);
  };

  const complete = (j: JobState): void => {
    if (j.status !== 'in_progress') return;
    const synced = ctx.store.syncWhere(
      (r) =>
        (j.regions.length === 0 || j.regions.includes(r.region)) &&
        (j.kms.length === 0 || j.kms.includes(r.kms) || j.kms.includes(r.kms_id)),
    );
    const detailed: Record<string, SyncJobStatus> = {};
    for (const s of synced) detailed[`${s.account}/${s.region}`] = 'completed';
    j.detailed_status = detailed;
    j.keys_synchronized = synced.length;
    j.status = 'completed';
    j.overall_status = 'completed';
    j.updatedAt = iso();
    j.completed_at = j.updatedAt;
  };
  /** Jobs past their due time complete when looked at (covers `advanceClock`), else by their timer. */
  const catchUp = (): void => {
    for (const j of jobs.values()) if (j.status === 'in_progress' && ctx.now() >= j.dueMs) complete(j);
  };
  const running = (): JobState | undefined => {
    catchUp();
    for (const j of jobs.values()) if (j.status === 'in_progress') return j;
    return undefined;
  };

  const start = (body: Record<string, unknown>): Reply => {
    const kms = stringList(body, 'kms');
    if (!Array.isArray(kms)) return kms;
    const regions = stringList(body, 'regions');
    if (!Array.isArray(regions)) return regions;
    const bad = regions.find((r) => !REGION_RE.test(r));
    if (bad !== undefined) return badParam(`regions: ${JSON.stringify(bad.slice(0, 40))} is not a Region`);
    const all = body.synchronize_all;
    if (all !== undefined && typeof all !== 'boolean')
      return badParam('synchronize_all must be true or false');
    if (all === true && (kms.length > 0 || regions.length > 0)) {
      return badParam('synchronize_all cannot be combined with kms or regions');
    }
    if (all !== true && kms.length === 0 && regions.length === 0) {
      return badParam('give kms and/or regions, or synchronize_all: true');
    }
    const busy = running();
    if (busy) {
      return cmError(
        409,
        20,
        'NCERRConflict: a synchronization job is already in progress',
        `synchronization job ${busy.id} is in progress`,
      );
    }
    const id = randomUUID();
    const at = iso();
    const job: JobState = {
      id,
      uri: `kylo:kylo:cckm:synchronization-job:${id}`,
      account: 'kylo:kylo:admin:accounts:kylo',
      createdAt: at,
      updatedAt: at,
      status: 'in_progress',
      overall_status: 'in_progress',
      kms,
      regions,
      synchronize_all: all === true,
      detailed_status: {},
      keys_synchronized: 0,
      dueMs: ctx.now() + delayMs,
    };
    jobs.set(id, job);
    ctx.counters().syncJobsStarted += 1;
    const owner = jobs;
    const t = setTimeout(() => {
      ctx.timers.delete(t);
      // A reset in between replaced the table: this job is gone.
      if (owner === jobs) complete(job);
    }, delayMs);
    ctx.timers.add(t);
    return { status: 201, body: view(job) };
  };

  const get = (id: string): Reply => {
    catchUp();
    const j = jobs.get(id);
    return j ? { status: 200, body: view(j) } : notFound();
  };

  const list = (q: URLSearchParams): Reply => {
    catchUp();
    const wanted = [...q.getAll('status'), ...q.getAll('overall_status')];
    const unknown = wanted.find((s) => !STATUSES.includes(s as SyncJobStatus));
    if (unknown !== undefined) return badParam(`status must be one of ${STATUSES.join(', ')}`);
    const paging = parsePaging(q);
    if (isReply(paging)) return paging;
    const { limit, skip } = paging;
    const matched = [...jobs.values()].filter((j) => wanted.length === 0 || wanted.includes(j.status));
    const page = limit === -1 ? matched.slice(skip) : matched.slice(skip, skip + limit);
    return { status: 200, body: { skip, limit, total: matched.length, resources: page.map(view) } };
  };

  const cancel = (id: string): Reply => {
    catchUp();
    const j = jobs.get(id);
    if (!j) return notFound();
    if (j.status !== 'in_progress') {
      return cmError(409, 20, 'NCERRConflict: the synchronization job is not in progress');
    }
    j.status = 'cancelled';
    j.overall_status = 'cancelled';
    j.updatedAt = iso();
    return { status: 200, body: view(j) };
  };

  const api: SimSyncJobs = {
    list: () => {
      catchUp();
      return [...jobs.values()].map(view);
    },
    get: (id) => {
      catchUp();
      const j = jobs.get(id);
      return j ? view(j) : undefined;
    },
    completeNow: (id) => {
      const done: SimSyncJob[] = [];
      for (const j of jobs.values()) {
        if (j.status !== 'in_progress' || (id !== undefined && j.id !== id)) continue;
        complete(j);
        done.push(view(j));
      }
      return done;
    },
    get delayMs() {
      return delayMs;
    },
    set delayMs(ms: number) {
      if (!Number.isInteger(ms) || ms < 0) throw new Error('delayMs must be a non-negative integer');
      delayMs = ms;
    },
  };

  return {
    start,
    get,
    list,
    cancel,
    api,
    clear() {
      jobs = new Map();
      delayMs = ctx.options.syncJobDelayMs ?? 200;
    },
  };
}
