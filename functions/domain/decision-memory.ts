import { errorFields } from '../shared/errors.ts';
import type { LedgerEntry } from './ledger.ts';
import { nextEntry, scheduleDate } from './ledger.ts';
import type { RemediationPorts } from './ports.ts';
import type { OutcomeRecord } from './remediation-outcome.ts';

/**
 * What a CloudTrail event leaves in the ledger (contract section 7), and the one way the domain writes
 * to it: a write that fails is logged and counted (`LedgerErrors`), never a failed key, because the
 * ledger must never stand between a key and its protection.
 */

/**
 * Outcomes that say nothing about a key's schedule: a denied attempt scheduled nothing, and a key outside
 * this deployment's scope is not the guard's to remember. (A string set: `out-of-scope` is another
 * change's outcome.)
 */
export const NOT_REMEMBERED: ReadonlySet<string> = new Set(['denied-attempt', 'out-of-scope']);

/** Records a CloudTrail event's decision for its key; an event always replaces the earlier entry. */
export async function rememberEvent(
  ports: RemediationPorts,
  record: OutcomeRecord,
  notified: boolean,
): Promise<void> {
  if (!ports.ledger || NOT_REMEMBERED.has(record.outcome) || !record.key.arn) return;
  const deletionDate = scheduleDate(record);
  if (deletionDate === undefined) return;
  const entry = nextEntry({
    arn: record.key.arn,
    deletionDate,
    outcome: record.outcome,
    reason: record.reason,
    source: 'event',
    eventId: record.eventId,
    actor: record.actor,
    notified,
    nowMs: ports.now(),
  });
  if (entry) await writeEntries(ports, [entry], { eventId: record.eventId });
}

/** Stores entries; a failure is one error log line and one `LedgerErrors`, never thrown. */
export async function writeEntries(
  ports: RemediationPorts,
  entries: readonly LedgerEntry[],
  fields: Readonly<Record<string, unknown>>,
): Promise<void> {
  if (!ports.ledger || entries.length === 0) return;
  try {
    await ports.ledger.recordDecisions(entries, { deadline: ports.deadline });
  } catch (error) {
    ledgerFailed(ports, 'recording decisions in the ledger failed', error, {
      ...fields,
      entries: entries.length,
    });
  }
}

/** Reports a ledger failure: a warning naming the failure and one `LedgerErrors`. */
export function ledgerFailed(
  ports: RemediationPorts,
  message: string,
  error: unknown,
  fields: Readonly<Record<string, unknown>>,
): void {
  ports.metric?.('LedgerErrors', 1);
  (ports.warn ?? ports.progress)(message, {
    ...fields,
    ledgerError: true,
    ...errorFields(error),
  });
}
