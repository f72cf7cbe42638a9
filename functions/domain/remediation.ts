import type { PolicyConfig } from '../shared/config.ts';
import { NotFoundError } from '../shared/errors.ts';
import type { CckmKey } from './cckm-key.ts';
import { deletionDateOf } from './cckm-key.ts';
import { parseDeletionDate } from './deletion-date.ts';
import type { Decision, KeySource } from './deletion-policy.ts';
import { decideKey } from './deletion-policy.ts';
import type { OutcomeNotification } from './outcome-notification.ts';
import { formatNotification, shouldNotify } from './outcome-notification.ts';
import type { CckmApi } from './ports.ts';
import type { Actor, DeniedEvent, ScheduleEvent, SweepEvent } from './remediation-event.ts';
import { classifyEvent, describeActor } from './remediation-event.ts';
import type { KeyIdentity, Outcome, OutcomeRecord, RemediationResult } from './remediation-outcome.ts';
import {
  failureReason,
  identityOf,
  identityOfRef,
  RemediationIncompleteError,
  summarise,
} from './remediation-outcome.ts';

/**
 * The remediation flow: event -> keys -> per-key decision -> CipherTrust Manager calls -> outcomes.
 * All I/O goes through the ports the handler passes in, so this module imports no adapter and every
 * branch is exercised with fakes.
 */

/** Everything the flow touches, injected by the handler. */
export interface RemediationPorts {
  readonly cckm: CckmApi;
  readonly policy: Pick<PolicyConfig, 'mode' | 'reenable' | 'allowedPrincipals' | 'exemptTag'>;
  /** Writes one audit line per key. */
  readonly audit: (record: OutcomeRecord) => void;
  /** Writes progress and summary lines. */
  readonly progress: (message: string, fields: Readonly<Record<string, unknown>>) => void;
  /** Publishes one notification; absent when no topic is configured. Failures must be handled inside. */
  readonly notify?: (notification: OutcomeNotification) => Promise<void>;
  readonly now: () => number;
  /** Epoch ms by which every CipherTrust Manager call must have finished. */
  readonly deadline: number;
  /** Keys decided at once during a sweep; bounds sockets and CipherTrust Manager load. */
  readonly concurrency?: number;
  /** A key is not started when less than this is left before the deadline. */
  readonly minKeyBudgetMs?: number;
  /** A progress line every this many decided keys during a sweep. */
  readonly progressEvery?: number;
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_MIN_KEY_BUDGET_MS = 1500;
export const DEFAULT_PROGRESS_EVERY = 100;

type Base = Omit<OutcomeRecord, 'outcome' | 'reason' | 'key'>;

/** Classifies the event, decides every key it concerns, and returns one outcome per key. */
export async function remediate(input: unknown, ports: RemediationPorts): Promise<RemediationResult> {
  const started = ports.now();
  const event = classifyEvent(input);
  if (event.kind === 'ignored') {
    ports.progress('event ignored', { eventId: event.eventId, reason: event.reason });
    return { eventId: event.eventId, kind: 'ignored', note: event.reason, outcomes: [], summary: {} };
  }
  let outcomes: OutcomeRecord[];
  let note: string | undefined;
  if (event.kind === 'denied-attempt') {
    outcomes = [await settle(ports, deniedOutcome(event, ports))];
  } else if (event.kind === 'schedule-key-deletion') {
    outcomes = [await settle(ports, await scheduledKey(event, ports))];
  } else {
    note = `sweep triggered by ${event.trigger}${event.origin ? ` (${event.origin})` : ''}`;
    outcomes = await sweep(event, ports);
  }
  const result: RemediationResult = {
    eventId: event.eventId,
    kind: event.kind,
    ...(note === undefined ? {} : { note }),
    outcomes,
    summary: summarise(outcomes),
  };
  ports.progress('remediation summary', {
    eventId: result.eventId,
    kind: result.kind,
    keys: outcomes.length,
    summary: result.summary,
    durationMs: ports.now() - started,
  });
  return result;
}

/** Throws RemediationIncompleteError when any key failed, so the event is retried. */
export function assertComplete(result: RemediationResult): void {
  if ((result.summary.failed ?? 0) > 0) throw new RemediationIncompleteError(result);
}

function deniedOutcome(event: DeniedEvent, ports: RemediationPorts): OutcomeRecord {
  return {
    outcome: 'denied-attempt',
    reason:
      `ScheduleKeyDeletion failed with ${event.errorCode}${event.errorMessage ? `: ${event.errorMessage}` : ''}`.slice(
        0,
        1000,
      ),
    key: identityOfRef(event.key.ref, event.key),
    actor: describeActor(event.actor),
    eventId: event.eventId,
    eventTime: event.eventTime,
    pendingWindowInDays: event.pendingWindowInDays,
    mode: ports.policy.mode,
    kind: 'denied-attempt',
  };
}

async function scheduledKey(event: ScheduleEvent, ports: RemediationPorts): Promise<OutcomeRecord> {
  const base: Base = {
    actor: describeActor(event.actor),
    eventId: event.eventId,
    eventTime: event.eventTime,
    pendingWindowInDays: event.pendingWindowInDays,
    deletionDate: event.deletionDate,
    mode: ports.policy.mode,
    kind: 'schedule-key-deletion',
  };
  const fromEvent = identityOfRef(event.key.ref, event.key);
  const ref = event.key.ref;
  if (!ref) return outcome(base, fromEvent, 'failed', 'the event names no resolvable key');
  if (outOfTime(ports))
    return outcome(base, fromEvent, 'failed', 'time budget: not started before the deadline');
  let key: CckmKey | undefined;
  try {
    key = await ports.cckm.findAwsKey(ref, { deadline: ports.deadline });
  } catch (error) {
    return outcome(base, fromEvent, 'failed', failureReason('looking the key up in CCKM failed', error));
  }
  if (!key) {
    // No synchronisation job: it takes minutes and re-reads a whole Region, so the answer would not
    // come within this invocation, and a key CCKM does not manage is not the guard's to cancel.
    // The audit line and notification tell a person; the sweep acts once CCKM has synchronised.
    return outcome(
      base,
      fromEvent,
      'not-managed',
      `CCKM has no record of key ${ref.keyId} in ${ref.region}${ref.account ? ` (account ${ref.account})` : ''}`,
    );
  }
  return act(key, 'event', event.actor, base, fromEvent, ports);
}

async function sweep(event: SweepEvent, ports: RemediationPorts): Promise<OutcomeRecord[]> {
  const base: Base = {
    actor: 'sweep',
    eventId: event.eventId,
    eventTime: event.eventTime,
    mode: ports.policy.mode,
    kind: 'sweep',
  };
  const started = ports.now();
  // The whole listing is read before acting: cancelling while paging would shift the offsets of
  // the PendingDeletion filter and skip keys on later pages.
  const listed = new Map<string, CckmKey>();
  let listingFailure: OutcomeRecord | undefined;
  try {
    for await (const key of ports.cckm.listPendingDeletion({
      deadline: ports.deadline,
      onPage: (info) => ports.progress('sweep listing', { eventId: event.eventId, ...info }),
    })) {
      if (typeof key?.id === 'string' && !listed.has(key.id)) listed.set(key.id, key);
    }
  } catch (error) {
    listingFailure = outcome(
      base,
      { aliases: [] },
      'failed',
      failureReason(`listing keys pending deletion failed after ${listed.size} key(s)`, error),
    );
  }
  const keys = [...listed.values()];
  ports.progress('sweep started', { eventId: event.eventId, keys: keys.length, trigger: event.trigger });

  const counts: Partial<Record<Outcome, number>> = {};
  let decided = 0;
  const every = ports.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  const outcomes = await mapBounded(keys, ports.concurrency ?? DEFAULT_CONCURRENCY, async (listedKey) => {
    const record = await settle(ports, await sweptKey(listedKey, base, ports));
    counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
    decided += 1;
    if (decided % every === 0 && decided < keys.length) {
      ports.progress('sweep progress', {
        eventId: event.eventId,
        decided,
        keys: keys.length,
        summary: { ...counts },
      });
    }
    return record;
  });
  if (listingFailure) outcomes.push(await settle(ports, listingFailure));
  ports.progress('sweep finished', {
    eventId: event.eventId,
    keys: keys.length,
    summary: summarise(outcomes),
    durationMs: ports.now() - started,
  });
  return outcomes;
}

async function sweptKey(listed: CckmKey, sweepBase: Base, ports: RemediationPorts): Promise<OutcomeRecord> {
  const listedIdentity = safeIdentity(listed);
  const base: Base = { ...sweepBase, deletionDate: dateOf(listed) };
  if (outOfTime(ports)) {
    return outcome(base, listedIdentity, 'failed', 'time budget: not started before the deadline');
  }
  // No fresh read per key: the listing is seconds old, and a key that stopped being pending since
  // (another guard, a person) makes the cancel answer not-pending, which is the same outcome. This
  // keeps a sweep at pages + cancels (+ enables) requests.
  return act(listed, 'sweep', undefined, base, listedIdentity, ports);
}

async function act(
  key: CckmKey,
  source: KeySource,
  actor: Actor | undefined,
  base: Base,
  fallback: KeyIdentity,
  ports: RemediationPorts,
): Promise<OutcomeRecord> {
  const identity = merge(safeIdentity(key), fallback);
  let decision: Decision;
  try {
    decision = decideKey({ policy: ports.policy, key, source, actor });
  } catch (error) {
    // A record so malformed that the decision itself fails must not hide the other keys.
    return outcome(base, identity, 'failed', failureReason('the CCKM record could not be read', error));
  }
  if (decision.action === 'skip') return outcome(base, identity, decision.outcome, decision.reason);
  if (outOfTime(ports))
    return outcome(base, identity, 'failed', 'time budget: not started before the deadline');

  let cancelled: { readonly outcome: 'cancelled' | 'not-pending' };
  try {
    cancelled = await ports.cckm.cancelDeletion(key.id, { deadline: ports.deadline });
  } catch (error) {
    if (error instanceof NotFoundError) {
      // Removed from CCKM since it was listed or looked up: nothing the guard can cancel through CCKM.
      return outcome(base, identity, 'not-managed', 'CCKM no longer has a record of this key');
    }
    return outcome(base, identity, 'failed', failureReason('cancel-deletion failed', error));
  }
  if (cancelled.outcome === 'not-pending') {
    return outcome(
      base,
      identity,
      'not-pending',
      'CipherTrust Manager reports the key is not pending deletion',
    );
  }
  if (!decision.enable)
    return outcome(base, identity, 'cancelled', `${decision.reason}: the key is now Disabled`);
  try {
    await ports.cckm.enableKey(key.id, { deadline: ports.deadline });
  } catch (error) {
    // A retry would see the key not pending and skip the enable, so a person must finish the job.
    return outcome(
      base,
      identity,
      'failed',
      failureReason(
        'deletion cancelled (the key is Disabled), but enabling it failed; enable it by hand',
        error,
      ),
    );
  }
  return outcome(base, identity, 'cancelled-and-enabled', `${decision.reason}: the key is Enabled again`);
}

/** Audits, then notifies; neither may prevent the other keys from being decided. */
async function settle(ports: RemediationPorts, record: OutcomeRecord): Promise<OutcomeRecord> {
  try {
    ports.audit(record);
  } catch {
    // The audit port is a logger; a logger failure must not turn a cancelled key into a failed one.
  }
  if (ports.notify && shouldNotify(record)) {
    try {
      await ports.notify(formatNotification(record));
    } catch {
      // The notifier logs its own failures; a lost message must not undo or repeat a cancel.
    }
  }
  return record;
}

function outcome(base: Base, key: KeyIdentity, result: Outcome, reason: string): OutcomeRecord {
  return { ...base, outcome: result, reason, key };
}

function outOfTime(ports: RemediationPorts): boolean {
  return ports.now() + (ports.minKeyBudgetMs ?? DEFAULT_MIN_KEY_BUDGET_MS) > ports.deadline;
}

function dateOf(key: CckmKey): string | undefined {
  try {
    const raw = deletionDateOf(key);
    return parseDeletionDate(raw) ?? raw;
  } catch {
    return undefined;
  }
}

function safeIdentity(key: CckmKey): KeyIdentity {
  try {
    return identityOf(key);
  } catch {
    return { cckmId: typeof key?.id === 'string' ? key.id : undefined, aliases: [] };
  }
}

function merge(primary: KeyIdentity, fallback: KeyIdentity): KeyIdentity {
  return {
    cckmId: primary.cckmId ?? fallback.cckmId,
    keyId: primary.keyId ?? fallback.keyId,
    arn: primary.arn ?? fallback.arn,
    aliases: primary.aliases.length > 0 ? primary.aliases : fallback.aliases,
    account: primary.account ?? fallback.account,
    region: primary.region ?? fallback.region,
  };
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
