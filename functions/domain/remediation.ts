import { describeActor } from './event-identity.ts';
import { recordHeartbeat } from './heartbeat.ts';
import {
  act,
  failedBy,
  OUT_OF_TIME_REASON,
  type OutcomeContext,
  outcome,
  outOfTime,
  settle,
} from './key-action.ts';
import type { ManagedKey } from './managed-key.ts';
import type { RemediationPorts } from './ports.ts';
import type { DeniedEvent, ScheduleEvent } from './remediation-event.ts';
import { classifyEvent } from './remediation-event.ts';
import type { OutcomeRecord, RemediationResult, SweepCoverage } from './remediation-outcome.ts';
import { identityOfRef, RemediationIncompleteError, summarise } from './remediation-outcome.ts';
import { EVERYWHERE, outOfScopeReason, regionInScope } from './scope.ts';
import { sweep } from './sweep.ts';
import { startSweepSync } from './sweep-sync.ts';

/**
 * The remediation flow: event -> keys -> per-key decision -> CipherTrust Manager calls -> outcomes.
 * This module dispatches on the event; `sweep.ts` and `key-action.ts` do the rest. All I/O goes
 * through the ports the handler passes in, so every branch is exercised with fakes.
 */

export { mapBounded } from '../shared/map-bounded.ts';
export { DEFAULT_MIN_KEY_BUDGET_MS } from './key-action.ts';
export type { RemediationPorts } from './ports.ts';
export { DEFAULT_CONCURRENCY, DEFAULT_PROGRESS_EVERY } from './sweep.ts';

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
  let coverage: SweepCoverage | undefined;
  let undelivered = 0;
  if (event.kind === 'denied-attempt' || event.kind === 'schedule-key-deletion') {
    const record =
      event.kind === 'denied-attempt' ? deniedOutcome(event, ports) : await scheduledKey(event, ports);
    undelivered = await settle(ports, record);
    outcomes = [record];
  } else if (event.kind === 'heartbeat') {
    // Never a sweep, never a CipherTrust Manager call: the ledger remembers the pair.
    note = await recordHeartbeat(event, ports);
    outcomes = [];
  } else {
    note = `sweep triggered by ${event.trigger}${event.origin ? ` (${event.origin})` : ''}`;
    ({ outcomes, coverage, undelivered } = await sweep(event, ports));
    const synced = await startSweepSync(event, ports);
    if (synced !== undefined) note = `${note}; ${synced}`;
  }
  const summary = summarise(outcomes);
  // A CloudTrail event's result (no note, no coverage, all delivered) is one literal, not three spreads.
  const result: RemediationResult =
    note === undefined && coverage === undefined && undelivered === 0
      ? { eventId: event.eventId, kind: event.kind, outcomes, summary }
      : {
          eventId: event.eventId,
          kind: event.kind,
          ...(note === undefined ? {} : { note }),
          outcomes,
          summary,
          ...(coverage === undefined ? {} : { coverage }),
          ...(undelivered > 0 ? { undelivered } : {}),
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

/**
 * Throws RemediationIncompleteError when any key failed, or when a notification that was the event's
 * only effect could not be published, so the event is retried.
 */
export function assertComplete(result: RemediationResult): void {
  if ((result.summary.failed ?? 0) > 0 || (result.undelivered ?? 0) > 0) {
    throw new RemediationIncompleteError(result);
  }
}

function deniedOutcome(event: DeniedEvent, ports: RemediationPorts): OutcomeRecord {
  const failedWith = `ScheduleKeyDeletion failed with ${event.errorCode}${event.errorMessage ? `: ${event.errorMessage}` : ''}`;
  const key = identityOfRef(event.key.ref, event.key);
  const outside = outOfScopeReason(ports.scope ?? EVERYWHERE, key.account, key.region);
  return outcome(
    eventContext(event, ports),
    key,
    outside === undefined ? 'denied-attempt' : 'out-of-scope',
    (outside === undefined ? failedWith : `${outside} (${failedWith})`).slice(0, 1000),
  );
}

/** What every outcome of a CloudTrail event shares. */
function eventContext(event: ScheduleEvent | DeniedEvent, ports: RemediationPorts): OutcomeContext {
  return {
    actor: describeActor(event.actor),
    eventId: event.eventId,
    eventTime: event.eventTime,
    pendingWindowInDays: event.pendingWindowInDays,
    deletionDate: event.kind === 'schedule-key-deletion' ? event.deletionDate : undefined,
    mode: ports.policy.mode,
    kind: event.kind,
  };
}

async function scheduledKey(event: ScheduleEvent, ports: RemediationPorts): Promise<OutcomeRecord> {
  const context = eventContext(event, ports);
  const fromEvent = identityOfRef(event.key.ref, event.key);
  const ref = event.key.ref;
  if (!ref) return outcome(context, fromEvent, 'failed', 'the event names no resolvable key');
  const scope = ports.scope ?? EVERYWHERE;
  // Decided from the event before any call: the Region always, the account when the event names it
  // (always, for CloudTrail). An account known only from CCKM's record is checked after the lookup.
  const account = fromEvent.account;
  if (account !== undefined || !regionInScope(scope, ref.region)) {
    const early = outOfScopeReason(scope, account, ref.region);
    if (early !== undefined) return outcome(context, fromEvent, 'out-of-scope', early);
  }
  if (outOfTime(ports)) return outcome(context, fromEvent, 'failed', OUT_OF_TIME_REASON);
  let key: ManagedKey | undefined;
  try {
    key = await ports.cckm.findAwsKey(ref, { deadline: ports.deadline });
  } catch (error) {
    return failedBy(ports, context, fromEvent, 'looking the key up in CCKM failed', error);
  }
  if (!key) {
    // No synchronisation job: it takes minutes and re-reads a whole Region, so the answer would not
    // come within this invocation, and a key CCKM does not manage is not the guard's to cancel.
    // The audit line and notification tell a person; the sweep acts once CCKM has synchronised.
    return outcome(
      context,
      fromEvent,
      'not-managed',
      `CCKM has no record of key ${ref.keyId} in ${ref.region}${ref.account ? ` (account ${ref.account})` : ''}`,
    );
  }
  const outside = outOfScopeReason(scope, key.account, key.region);
  if (outside !== undefined) return outcome(context, fromEvent, 'out-of-scope', outside);
  return act({ key, source: 'event', actor: event.actor, context, fallback: fromEvent, ports });
}
