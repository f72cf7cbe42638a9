import type { Outcome, OutcomeRecord } from './remediation-outcome.ts';

/**
 * The message a person reads in a mail list (contract section 4): a subject naming the outcome, the
 * key and where it lives, and a JSON body with everything the audit line has. Built only from an
 * OutcomeRecord, which holds no credential by construction.
 */

/** What the notifier publishes. */
export interface OutcomeNotification {
  readonly subject: string;
  /** JSON text. */
  readonly message: string;
  readonly outcome: Outcome;
}

/** SNS wants a subject of fewer than 100 characters, no line breaks or control characters. */
export const MAX_SUBJECT_LENGTH = 99;

const LABELS: Readonly<Record<Outcome, string>> = {
  cancelled: 'KMS key deletion cancelled',
  'cancelled-and-enabled': 'KMS key deletion cancelled, key enabled',
  'not-pending': 'KMS key not pending deletion',
  allowed: 'KMS key deletion allowed',
  exempt: 'KMS key deletion allowed (exempt tag)',
  detected: 'KMS key deletion detected (detect mode)',
  'not-managed': 'KMS key deletion not handled: key not in CCKM',
  'out-of-scope': 'KMS key deletion outside scope, not handled',
  'denied-attempt': 'KMS key deletion attempt denied',
  failed: 'FAILED to cancel KMS key deletion',
};

/**
 * Sweep outcomes that repeat at every sweep while nothing changes: a key someone else already
 * cancelled, or an exempt key waiting out its window. Telling a person once per hour is noise.
 */
const QUIET_ON_SWEEP: ReadonlySet<Outcome> = new Set(['not-pending', 'exempt']);

/**
 * Outcomes whose notification is the event's only effect (contract section 4): when it cannot be
 * published the handler throws, once everything is decided, so the event is retried.
 */
export const NOTIFICATION_ONLY: ReadonlySet<Outcome> = new Set([
  'denied-attempt',
  'allowed',
  'exempt',
  'detected',
  'not-managed',
]);

/** True when a person should hear about this outcome (without a ledger, for a sweep). */
export function shouldNotify(record: OutcomeRecord): boolean {
  // Outside scope is another deployment's business (contract section 4): logged and counted only.
  if (record.kind === 'ignored' || record.outcome === 'out-of-scope') return false;
  return !(record.kind === 'sweep' && QUIET_ON_SWEEP.has(record.outcome));
}

/** Builds the subject and JSON message for one key's outcome. */
export function formatNotification(record: OutcomeRecord): OutcomeNotification {
  return { subject: formatSubject(record), message: formatMessage(record), outcome: record.outcome };
}

/** `<what happened>: <alias or key id> (<account> <region>)`, printable ASCII, at most 99 characters. */
export function formatSubject(record: OutcomeRecord): string {
  const label = LABELS[record.outcome];
  const { key } = record;
  const { account, region } = key;
  // `<account> <region>`, or whichever of the two is known (no array to filter and join per message).
  const where = account && region ? `${account} ${region}` : account || region || '';
  const suffix = where ? ` (${ascii(where)})` : '';
  // A record without any key is a sweep that could not list the keys.
  const fallback = record.kind === 'sweep' ? 'sweep (keys could not be listed)' : 'unknown key';
  const name = ascii(key.aliases[0] ?? key.keyId ?? key.cckmId ?? key.arn ?? fallback);
  const room = MAX_SUBJECT_LENGTH - label.length - 2 - suffix.length;
  const shown = name.length <= room ? name : `${name.slice(0, Math.max(0, room - 3))}...`;
  return `${label}: ${shown}${suffix}`.slice(0, MAX_SUBJECT_LENGTH);
}

/** The JSON body: outcome, reason, key, actor, event time, pending window and deletion date. */
export function formatMessage(record: OutcomeRecord): string {
  const { key } = record;
  return JSON.stringify(
    {
      outcome: record.outcome,
      reason: record.reason,
      key: {
        cckmId: key.cckmId ?? null,
        arn: key.arn ?? null,
        keyId: key.keyId ?? null,
        aliases: key.aliases,
        account: key.account ?? null,
        region: key.region ?? null,
      },
      actor: record.actor,
      eventId: record.eventId,
      eventTime: record.eventTime ?? null,
      pendingWindowInDays: record.pendingWindowInDays ?? null,
      deletionDate: record.deletionDate ?? null,
      mode: record.mode,
      trigger: record.kind,
    },
    null,
    2,
  );
}

function ascii(text: string): string {
  // Anything outside printable ASCII (control characters, line breaks, non-Latin text) becomes `?`.
  return text.replace(/[^\x20-\x7e]/g, '?');
}
