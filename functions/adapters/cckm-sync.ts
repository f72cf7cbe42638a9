import type { CallOptions, SynchronizationStart } from '../domain/ports.ts';
import { listEnvelopeOf, malformed, okJson } from './cckm-answer.ts';
import { regionList } from './cckm-listing.ts';
import type { CmSession } from './cm-session.ts';

/** CCKM synchronization jobs (reference/cckm-api.md): started only when none is running. */

const SYNC_JOBS_PATH = '/api/v1/cckm/aws/synchronization-jobs';

/** Starts a synchronization job of `regions` (every Region when absent) unless one is already running. */
export async function startSynchronization(
  session: Pick<CmSession, 'call'>,
  request: { readonly regions?: readonly string[] },
  options?: CallOptions,
): Promise<SynchronizationStart> {
  const regions = regionList(request?.regions);
  // CCKM runs one job at a time: look first, so a sweep every hour never queues a second one.
  const label = `GET ${SYNC_JOBS_PATH}`;
  const running = await session.call(
    { method: 'GET', path: SYNC_JOBS_PATH, query: { status: 'in_progress', limit: 1 } },
    label,
    options,
  );
  const listed = listEnvelopeOf(okJson(running, label));
  if (!listed) throw malformed(label, 'a malformed list', running);
  if (listed.total > 0) return 'already-running';
  const startLabel = `POST ${SYNC_JOBS_PATH}`;
  const body = regions ? { regions } : { synchronize_all: true };
  const started = await session.call({ method: 'POST', path: SYNC_JOBS_PATH, body }, startLabel, options);
  // Another sweep (or a person) started one in between, or a retried start met its own job.
  if (started.status === 409) return 'already-running';
  okJson(started, startLabel);
  return 'started';
}
