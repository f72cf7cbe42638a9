import { mapBounded } from '../shared/map-bounded.ts';
import {
  act,
  OUT_OF_TIME_REASON,
  type OutcomeContext,
  outcome,
  outOfTime,
  safeIdentity,
} from './key-action.ts';
import type { ManagedKey } from './managed-key.ts';
import type { RemediationPorts, UnreadableKey } from './ports.ts';
import type { SweepEvent } from './remediation-event.ts';
import type { KeyIdentity, Outcome, OutcomeRecord, SweepCoverage } from './remediation-outcome.ts';
import { failureReason, summarise } from './remediation-outcome.ts';
import { EVERYWHERE, inScope, scopedRegions } from './scope.ts';
import { recall, type SweepMemory } from './sweep-memory.ts';

/** The sweep: list every key CCKM shows pending deletion, then act on each, a bounded number at once. */

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PROGRESS_EVERY = 100;

/** What a sweep returns: one outcome per key, coverage with a ledger, and undelivered notifications. */
export interface SweepResult {
  readonly outcomes: OutcomeRecord[];
  readonly coverage?: SweepCoverage;
  readonly undelivered: number;
}

/**
 * Lists, reads the ledger, then decides every listed key; a listing cut short adds one `failed` outcome.
 * Ends with one digest and the ledger's write-back.
 */
export async function sweep(event: SweepEvent, ports: RemediationPorts): Promise<SweepResult> {
  const context: OutcomeContext = {
    actor: 'sweep',
    eventId: event.eventId,
    eventTime: event.eventTime,
    mode: ports.policy.mode,
    kind: 'sweep',
  };
  const started = ports.now();
  const { keys, unreadable, failure, outOfScope } = await listAll(event, ports);
  const memory = await recall(keys, event, ports);
  ports.progress('sweep started', {
    eventId: event.eventId,
    keys: keys.length,
    trigger: event.trigger,
    // Keys of other accounts (or Regions a CM ignoring the filter sent): not this deployment's to decide.
    ...(outOfScope > 0 && { skippedOutOfScope: outOfScope }),
  });
  const progress = progressCounter(event, ports, keys.length);
  const outcomes = await mapBounded(keys, ports.concurrency ?? DEFAULT_CONCURRENCY, async (listedKey) =>
    progress(memory.settle(await sweptKey(listedKey, context, ports, memory))),
  );
  // A record the listing could not read is failed with what identity it has; the others are decided.
  for (const item of unreadable) {
    outcomes.push(memory.settle(outcome(context, item.identity, 'failed', item.reason)));
  }
  if (failure) {
    const reason = failureReason(
      `listing incomplete: keys pending deletion beyond the ${keys.length} listed were not decided`,
      failure.error,
    );
    outcomes.push(memory.settle(outcome(context, { aliases: [] }, 'failed', reason)));
  }
  const told = await memory.finish(outcomes);
  ports.progress('sweep finished', {
    eventId: event.eventId,
    keys: keys.length,
    summary: summarise(outcomes),
    durationMs: ports.now() - started,
  });
  return { outcomes, ...told };
}

/**
 * Reads the whole listing before acting: cancelling while paging would shift the offsets of the
 * PendingDeletion filter and skip keys on later pages. What was read before a failure is kept.
 * Only the Regions in scope are listed (repeated `region` filters) and only keys of accounts in scope
 * are kept: a sweep decides nothing outside scope, not even to report it (`outOfScope` counts them).
 */
async function listAll(
  event: SweepEvent,
  ports: RemediationPorts,
): Promise<{
  readonly keys: ManagedKey[];
  readonly unreadable: UnreadableKey[];
  readonly outOfScope: number;
  readonly failure: { readonly error: unknown } | undefined;
}> {
  const listed = new Map<string, ManagedKey>();
  const unreadable: UnreadableKey[] = [];
  const scope = ports.scope ?? EVERYWHERE;
  const regions = scopedRegions(scope);
  let outOfScope = 0;
  let failure: { readonly error: unknown } | undefined;
  try {
    for await (const key of ports.cckm.listPendingDeletion({
      deadline: ports.deadline,
      onPage: (info) => ports.progress('sweep listing', { eventId: event.eventId, ...info }),
      regions,
    })) {
      if (key && 'unreadable' in key) {
        // What identity an unreadable record has still tells whether it is this deployment's.
        const { account, region } = key.identity;
        if (account === undefined || region === undefined || inScope(scope, account, region)) {
          unreadable.push(key);
        } else outOfScope += 1;
      } else if (typeof key?.cckmId === 'string' && !listed.has(key.cckmId)) {
        if (inScope(scope, key.account, key.region)) listed.set(key.cckmId, key);
        else outOfScope += 1;
      }
    }
  } catch (error) {
    failure = { error };
  }
  return { keys: [...listed.values()], unreadable, outOfScope, failure };
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
  memory: SweepMemory,
): Promise<OutcomeRecord> {
  const fallback: KeyIdentity = safeIdentity(listed);
  const context: OutcomeContext = { ...sweepContext, deletionDate: listed.deletionDate };
  // An earlier allowed deletion stands until its date: no cancel, whoever lists the key now.
  const honoured = memory.honoured(listed);
  if (honoured !== undefined) return outcome(context, fallback, 'allowed', honoured);
  if (outOfTime(ports)) return outcome(context, fallback, 'failed', OUT_OF_TIME_REASON);
  // No fresh read per key: the listing is seconds old, and a key that stopped being pending since
  // (another guard, a person) makes the cancel answer not-pending, which is the same outcome. This
  // keeps a sweep at pages + cancels (+ enables) requests.
  return act({ key: listed, source: 'sweep', context, fallback, ports });
}
