import { AppError, NotFoundError } from '../shared/errors.ts';
import { rememberEvent } from './decision-memory.ts';
import type { Decision, KeySource } from './deletion-policy.ts';
import { decideKey } from './deletion-policy.ts';
import type { Actor } from './event-identity.ts';
import type { ManagedKey } from './managed-key.ts';
import { formatNotification, NOTIFICATION_ONLY, shouldNotify } from './outcome-notification.ts';
import type { Notification, RemediationPorts } from './ports.ts';
import type { KeyIdentity, Outcome, OutcomeRecord } from './remediation-outcome.ts';
import { failureReason } from './remediation-outcome.ts';

/** The per-key act of the remediation: decide, cancel, enable, and say what happened. */

export const DEFAULT_MIN_KEY_BUDGET_MS = 1500;

/** The reason of a key the guard had no time left to start. */
export const OUT_OF_TIME_REASON = 'time budget: not started before the deadline';

/** What every outcome of one event shares: who, when, which event and mode. */
export type OutcomeContext = Omit<OutcomeRecord, 'outcome' | 'reason' | 'key'>;

/** One key to act on. */
export interface KeyAct {
  readonly key: ManagedKey;
  readonly source: KeySource;
  /** Who scheduled the deletion, for a CloudTrail event. */
  readonly actor?: Actor;
  readonly context: OutcomeContext;
  /** What the event or listing said about the key, for fields the record lacks. */
  readonly fallback: KeyIdentity;
  readonly ports: RemediationPorts;
}

/** Builds one outcome record. */
export function outcome(
  context: OutcomeContext,
  key: KeyIdentity,
  result: Outcome,
  reason: string,
): OutcomeRecord {
  return { ...context, outcome: result, reason, key };
}

/**
 * The `failed` outcome of a call that threw; an error that is not an `AppError` is a defect, so it is
 * also handed to `ports.unexpected` with its stack (the reason alone would hide where it came from).
 */
export function failedBy(
  ports: RemediationPorts,
  context: OutcomeContext,
  key: KeyIdentity,
  prefix: string,
  error: unknown,
): OutcomeRecord {
  if (!(error instanceof AppError)) {
    ports.unexpected?.(prefix, error, { cckmId: key.cckmId, keyId: key.keyId, eventId: context.eventId });
  }
  return outcome(context, key, 'failed', failureReason(prefix, error));
}

/** True when too little time is left to start another key. */
export function outOfTime(ports: RemediationPorts): boolean {
  return ports.now() + (ports.minKeyBudgetMs ?? DEFAULT_MIN_KEY_BUDGET_MS) > ports.deadline;
}

/** Decides one key and carries the decision out through CipherTrust Manager. */
export async function act({ key, source, actor, context, fallback, ports }: KeyAct): Promise<OutcomeRecord> {
  const identity = safeIdentity(key, fallback);
  let decision: Decision;
  try {
    decision = decideKey({ policy: ports.policy, key, source, actor });
  } catch (error) {
    // A record so malformed that the decision itself fails must not hide the other keys.
    return failedBy(ports, context, identity, 'the CCKM record could not be read', error);
  }
  if (decision.action === 'skip') return outcome(context, identity, decision.outcome, decision.reason);
  if (outOfTime(ports)) return outcome(context, identity, 'failed', OUT_OF_TIME_REASON);

  let cancelled: { readonly outcome: 'cancelled' | 'not-pending' };
  try {
    cancelled = await ports.cckm.cancelDeletion(key.cckmId, { deadline: ports.deadline });
  } catch (error) {
    if (error instanceof NotFoundError) {
      // Removed from CCKM since it was listed or looked up: nothing the guard can cancel through CCKM.
      return outcome(context, identity, 'not-managed', 'CCKM no longer has a record of this key');
    }
    return failedBy(ports, context, identity, 'cancel-deletion failed', error);
  }
  if (cancelled.outcome === 'not-pending') {
    return outcome(
      context,
      identity,
      'not-pending',
      'CipherTrust Manager reports the key is not pending deletion',
    );
  }
  if (!decision.enable)
    return outcome(context, identity, 'cancelled', `${decision.reason}: the key is now Disabled`);
  try {
    await ports.cckm.enableKey(key.cckmId, { deadline: ports.deadline });
  } catch (error) {
    // A retry would see the key not pending and skip the enable, so a person must finish the job.
    return failedBy(
      ports,
      context,
      identity,
      'deletion cancelled (the key is Disabled), but enabling it failed; enable it by hand',
      error,
    );
  }
  return outcome(context, identity, 'cancelled-and-enabled', `${decision.reason}: the key is Enabled again`);
}

/** Writes the key's audit line; a failing logger must not turn a cancelled key into a failed one. */
export function audit(ports: RemediationPorts, record: OutcomeRecord): void {
  try {
    ports.audit(record);
  } catch {
    // The audit port is a logger; its failure is not the key's.
  }
}

/**
 * Publishes one notification: true when published, false when not (counted as `NotificationsFailed`),
 * undefined when there is no topic. Never throws: a lost message must not undo or repeat a cancel.
 */
export async function publish(
  ports: RemediationPorts,
  notification: Notification,
): Promise<boolean | undefined> {
  if (!ports.notify) return undefined;
  let published: boolean;
  try {
    published = await ports.notify(notification);
  } catch {
    // The notifier logs its own failures.
    published = false;
  }
  if (!published) ports.metric?.('NotificationsFailed', 1);
  return published;
}

/**
 * Settles a CloudTrail event's key: audit line, its one message, its ledger entry. Returns how many
 * notifications were the event's only effect and could not be published (0 or 1).
 */
export async function settle(ports: RemediationPorts, record: OutcomeRecord): Promise<number> {
  audit(ports, record);
  const delivered = shouldNotify(record) ? await publish(ports, formatNotification(record)) : undefined;
  // Without a ledger there is nothing to remember: no call, no promise to wait on.
  if (ports.ledger) await rememberEvent(ports, record, delivered === true);
  return delivered === false && NOTIFICATION_ONLY.has(record.outcome) ? 1 : 0;
}

/** Nothing known about a key beyond its record. */
const NO_IDENTITY: KeyIdentity = Object.freeze({ aliases: Object.freeze([]) });

/**
 * The key's identity, each field its record lacks taken from `fallback`; a port that hands over a
 * broken object still yields its id when it has one.
 */
export function safeIdentity(key: ManagedKey, fallback: KeyIdentity = NO_IDENTITY): KeyIdentity {
  try {
    return merge(key, fallback);
  } catch {
    return merge({ cckmId: typeof key?.cckmId === 'string' ? key.cckmId : undefined, aliases: [] }, fallback);
  }
}

function merge(primary: KeyIdentity, fallback: KeyIdentity): KeyIdentity {
  return {
    cckmId: primary.cckmId ?? fallback.cckmId,
    keyId: primary.keyId ?? fallback.keyId,
    arn: primary.arn ?? fallback.arn,
    aliases: primary.aliases?.length > 0 ? primary.aliases : fallback.aliases,
    account: primary.account ?? fallback.account,
    region: primary.region ?? fallback.region,
  };
}
