import {
  act,
  OUT_OF_TIME_REASON,
  type OutcomeContext,
  outcome,
  outOfTime,
  safeIdentity,
  settle,
} from './key-action.ts';
import type { ManagedKey } from './managed-key.ts';
import type { RemediationPorts, UnreadableKey } from './ports.ts';
import type { SweepEvent } from './remediation-event.ts';
import type { KeyIdentity, Outcome, OutcomeRecord } from './remediation-outcome.ts';
import { failureReason, summarise } from './remediation-outcome.ts';

/** The sweep: list every key CCKM shows pending deletion, then act on each, a bounded number at once. */

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PROGRESS_EVERY = 100;

/** Lists, then decides every listed key; a listing cut short adds one `failed` outcome. */
export async function sweep(event: SweepEvent, ports: RemediationPorts): Promise<OutcomeRecord[]> {
  const context: OutcomeContext = {
    actor: 'sweep',
    eventId: event.eventId,
    eventTime: event.eventTime,
    mode: ports.policy.mode,
    kind: 'sweep',
  };
  const started = ports.now();
  const { keys, unreadable, failure } = await listAll(event, ports);
  ports.progress('sweep started', { eventId: event.eventId, keys: keys.length, trigger: event.trigger });
  const progress = progressCounter(event, ports, keys.length);
  const outcomes = await mapBounded(keys, ports.concurrency ?? DEFAULT_CONCURRENCY, async (listedKey) =>
    progress(await settle(ports, await sweptKey(listedKey, context, ports))),
  );
  // A record the listing could not read is failed with what identity it has; the others are decided.
  for (const item of unreadable) {
    outcomes.push(await settle(ports, outcome(context, item.identity, 'failed', item.reason)));
  }
  if (failure) {
    const reason = failureReason(
      `listing incomplete: keys pending deletion beyond the ${keys.length} listed were not decided`,
      failure.error,
    );
    outcomes.push(await settle(ports, outcome(context, { aliases: [] }, 'failed', reason)));
  }
  ports.progress('sweep finished', {
    eventId: event.eventId,
    keys: keys.length,
    summary: summarise(outcomes),
    durationMs: ports.now() - started,
  });
  return outcomes;
}

/**
 * Reads the whole listing before acting: cancelling while paging would shift the offsets of the
 * PendingDeletion filter and skip keys on later pages. What was read before a failure is kept.
 */
async function listAll(
  event: SweepEvent,
  ports: RemediationPorts,
): Promise<{
  readonly keys: ManagedKey[];
  readonly unreadable: UnreadableKey[];
  readonly failure?: { readonly error: unknown };
}> {
  const listed = new Map<string, ManagedKey>();
  const unreadable: UnreadableKey[] = [];
  try {
    for await (const key of ports.cckm.listPendingDeletion({
      deadline: ports.deadline,
      onPage: (info) => ports.progress('sweep listing', { eventId: event.eventId, ...info }),
    })) {
      if (key && 'unreadable' in key) unreadable.push(key);
      else if (typeof key?.cckmId === 'string' && !listed.has(key.cckmId)) listed.set(key.cckmId, key);
    }
  } catch (error) {
    return { keys: [...listed.values()], unreadable, failure: { error } };
  }
  return { keys: [...listed.values()], unreadable };
}

/** Counts decided keys and writes a progress line every `progressEvery` of them. */
function progressCounter(
  event: SweepEvent,
  ports: RemediationPorts,
  total: number,
): (record: OutcomeRecord) => OutcomeRecord {
  const counts: Partial<Record<Outcome, number>> = {};
  const every = ports.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let decided = 0;
  return (record) => {
    counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
    decided += 1;
    if (decided % every === 0 && decided < total) {
      ports.progress('sweep progress', {
        eventId: event.eventId,
        decided,
        keys: total,
        summary: { ...counts },
      });
    }
    return record;
  };
}

async function sweptKey(
  listed: ManagedKey,
  sweepContext: OutcomeContext,
  ports: RemediationPorts,
): Promise<OutcomeRecord> {
  const fallback: KeyIdentity = safeIdentity(listed);
  const context: OutcomeContext = { ...sweepContext, deletionDate: listed.deletionDate };
  if (outOfTime(ports)) return outcome(context, fallback, 'failed', OUT_OF_TIME_REASON);
  // No fresh read per key: the listing is seconds old, and a key that stopped being pending since
  // (another guard, a person) makes the cancel answer not-pending, which is the same outcome. This
  // keeps a sweep at pages + cancels (+ enables) requests.
  return act({ key: listed, source: 'sweep', context, fallback, ports });
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the result. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: items.length === 0 ? 0 : workers }, worker));
  return results;
}
