import type { Outcome } from '../shared/outcomes.ts';
import type { Mode } from '../shared/settings.ts';
import type { AwsKeyRef } from './aws-key-ref.ts';
import type { Coverage } from './ledger.ts';

// The outcome names live in shared/ (the stack's dashboard reads them too); the domain's model includes them.
export type { Outcome } from '../shared/outcomes.ts';
export { OUTCOMES } from '../shared/outcomes.ts';

/** What the remediation's handler was given: the classified event kind. */
export type EventKind = 'schedule-key-deletion' | 'denied-attempt' | 'sweep' | 'heartbeat' | 'ignored';

/** The key an outcome is about, as far as it is known. */
export interface KeyIdentity {
  readonly cckmId?: string;
  readonly keyId?: string;
  readonly arn?: string;
  readonly aliases: readonly string[];
  readonly account?: string;
  readonly region?: string;
}

/** One key's outcome: the audit line, the notification and the handler's result are built from it. */
export interface OutcomeRecord {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly key: KeyIdentity;
  /** The caller's ARN (or issuer, service, type) for CloudTrail events; `sweep` for a sweep. */
  readonly actor: string;
  readonly eventId: string;
  readonly eventTime?: string;
  readonly pendingWindowInDays?: number;
  /** ISO 8601; from the event, from CCKM, or event time plus window. */
  readonly deletionDate?: string;
  readonly mode: Mode;
  /** The kind of event that led to this outcome (the audit line's and notification's `trigger`). */
  readonly kind: EventKind;
}

/** Counts per outcome; outcomes that did not occur are absent. */
export type OutcomeSummary = Partial<Record<Outcome, number>>;

/** The remediation handler's return value. */
export interface RemediationResult {
  readonly eventId: string;
  readonly kind: EventKind;
  /** Why an ignored event was ignored, or how a sweep was triggered. */
  readonly note?: string;
  readonly outcomes: readonly OutcomeRecord[];
  readonly summary: OutcomeSummary;
  /** A sweep's spoke coverage (contract section 7); absent without a ledger. */
  readonly coverage?: SweepCoverage;
  /**
   * Notifications that could not be published although they were their event's only effect (contract
   * section 4); present only when some were, and then the handler throws so the event is retried.
   */
  readonly undelivered?: number;
}

/** Coverage as a sweep reports it: `unknown` says why it could not be computed (the ledger was unreadable). */
export type SweepCoverage = Coverage & { readonly unknown?: string };

/** Counts outcomes by name. */
export function summarise(outcomes: readonly Pick<OutcomeRecord, 'outcome'>[]): OutcomeSummary {
  const summary: Partial<Record<Outcome, number>> = {};
  for (const { outcome } of outcomes) summary[outcome] = (summary[outcome] ?? 0) + 1;
  return summary;
}

/** The identity of a key from an event's reference, before (or without) a CCKM record. */
export function identityOfRef(
  ref: AwsKeyRef | undefined,
  extra: {
    readonly given?: string;
    readonly alias?: string;
    readonly account?: string;
    readonly region?: string;
  },
): KeyIdentity {
  const { alias } = extra;
  return {
    keyId: ref?.keyId ?? (alias === undefined ? extra.given : undefined),
    arn: ref?.arn,
    aliases: alias === undefined ? [] : [alias],
    account: ref?.account ?? extra.account,
    region: ref?.region ?? extra.region,
  };
}

/** A short, credential-free reason for a failed call: error class and message, bounded. */
export function failureReason(prefix: string, error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return `${prefix}: ${name}: ${message}`.replace(/\s+/g, ' ').slice(0, 500);
}

/** Thrown after every key was decided when some failed, so EventBridge and Lambda retry the event. */
export class RemediationIncompleteError extends Error {
  readonly result: RemediationResult;

  constructor(result: RemediationResult) {
    const failed = result.outcomes.filter((o) => o.outcome === 'failed');
    const shown = failed
      .slice(0, 5)
      .map((o) => `${o.key.arn ?? o.key.keyId ?? o.key.cckmId ?? 'sweep'}: ${o.reason.slice(0, 200)}`);
    const more = failed.length > shown.length ? `; and ${failed.length - shown.length} more` : '';
    const unsent = `${result.undelivered} notification(s) that were the event's only effect could not be published`;
    super(
      failed.length > 0
        ? `${failed.length} of ${result.outcomes.length} key(s) failed for event ${result.eventId}; the event will be retried: ${shown.join('; ')}${more}${result.undelivered ? `; and ${unsent}` : ''}`
        : `event ${result.eventId}: ${unsent}; the event will be retried`,
    );
    this.name = 'RemediationIncompleteError';
    this.result = result;
  }
}

/** The audit line's fields: flat, so log queries can filter on any of them. */
export function auditFields(record: OutcomeRecord): Record<string, unknown> {
  const { key } = record;
  return {
    outcome: record.outcome,
    reason: record.reason,
    cckmId: key.cckmId,
    keyId: key.keyId,
    arn: key.arn,
    aliases: key.aliases,
    account: key.account,
    region: key.region,
    actor: record.actor,
    eventId: record.eventId,
    eventTime: record.eventTime,
    pendingWindowInDays: record.pendingWindowInDays,
    deletionDate: record.deletionDate,
    mode: record.mode,
    trigger: record.kind,
  };
}
