import { ledgerFailed, NOT_REMEMBERED, writeEntries } from './decision-memory.ts';
import { buildDigest } from './digest.ts';
import { audit, publish } from './key-action.ts';
import type { Heartbeat, LedgerEntry } from './ledger.ts';
import {
  allowedStillHonoured,
  alreadyNotified,
  coverageOf,
  currentEntry,
  expectedSince,
  lastChanceDue,
  nextEntry,
  scheduleDate,
} from './ledger.ts';
import type { ManagedKey } from './managed-key.ts';
import { NOTIFICATION_ONLY, shouldNotify } from './outcome-notification.ts';
import type { RemediationPorts } from './ports.ts';
import type { OutcomeRecord, SweepCoverage } from './remediation-outcome.ts';
import { summarise } from './remediation-outcome.ts';

/**
 * What a sweep remembers and tells (contract sections 4 and 7): it reads the ledger once after the
 * listing, honours earlier `allowed` decisions, keeps what is new for one digest, reports coverage, and
 * writes back what changed. Without a ledger it remembers nothing and still sends one digest.
 */

/** Said in every swept key's reason when the ledger could not be read. */
export const LEDGER_UNREADABLE_NOTE = 'ledger unreadable: decided as if nothing was remembered';

/** One sweep's memory. */
export interface SweepMemory {
  /** Why an earlier `allowed` still stands for this listed key, or undefined: then decide as usual. */
  honoured(key: ManagedKey): string | undefined;
  /** Audits a decided key and notes what is new about it. */
  settle(record: OutcomeRecord): OutcomeRecord;
  /** Sends the digest (nothing when nothing is new) and writes back the ledger. */
  finish(outcomes: readonly OutcomeRecord[]): Promise<{ coverage: SweepCoverage; undelivered: number }>;
}

interface Noted {
  readonly record: OutcomeRecord;
  readonly entry: LedgerEntry | undefined;
  readonly news: boolean;
  readonly lastChance: boolean;
}

/** Reads the ledger for the listed keys (and the spokes' heartbeats), within the sweep's deadline. */
export async function recall(
  keys: readonly ManagedKey[],
  event: { readonly eventId: string; readonly eventTime?: string },
  ports: RemediationPorts,
): Promise<SweepMemory> {
  const nowMs = ports.now();
  const { ledger } = ports;
  let entries = new Map<string, LedgerEntry>();
  let heartbeats: Heartbeat[] | undefined;
  let unreadable = false;
  if (ledger) {
    const arns = keys.map((k) => k?.arn).filter((arn): arn is string => typeof arn === 'string');
    const options = { deadline: ports.deadline };
    const [decisions, beats] = await Promise.allSettled([
      arns.length > 0 ? ledger.readDecisions(arns, options) : Promise.resolve(new Map<string, LedgerEntry>()),
      ledger.readHeartbeats(expectedSince(nowMs), options),
    ]);
    const where = { eventId: event.eventId };
    if (decisions.status === 'fulfilled') entries = decisions.value;
    else {
      unreadable = true;
      ledgerFailed(ports, 'reading the ledger failed', decisions.reason, where);
    }
    if (beats.status === 'fulfilled') heartbeats = beats.value;
    else ledgerFailed(ports, 'reading spoke heartbeats failed', beats.reason, where);
  }
  const entryOf = (arn: string | undefined, deletionDate: string | undefined) =>
    typeof arn === 'string' ? currentEntry(entries.get(arn), deletionDate, nowMs) : undefined;
  const noted: Noted[] = [];

  return {
    honoured(key) {
      const entry = entryOf(key?.arn, key?.deletionDate);
      if (!entry || !allowedStillHonoured(entry, nowMs)) return undefined;
      const by = entry.source === 'event' ? 'CloudTrail event' : 'event';
      return `allowed earlier by ${by} ${entry.eventId}${entry.actor ? ` (${entry.actor})` : ''} at ${entry.decidedAt}; honoured until the deletion date ${entry.deletionDate}`;
    },

    settle(decided) {
      const record = unreadable
        ? { ...decided, reason: `${decided.reason}; ${LEDGER_UNREADABLE_NOTE}` }
        : decided;
      audit(ports, record);
      const entry = entryOf(record.key.arn, record.deletionDate);
      // With a ledger every outcome but not-pending is news once per schedule (cancels and failures each
      // time); without one, today's rule: a sweep stays quiet about exempt and not-pending keys.
      const news = ledger
        ? record.outcome !== 'not-pending' && !alreadyNotified(entry, record.outcome)
        : shouldNotify(record);
      const lastChance = lastChanceDue({
        outcome: record.outcome,
        // A date the listing lacks is taken from an event's entry, never from a sweep's estimate.
        deletionDate: record.deletionDate ?? (entry?.source === 'event' ? entry.deletionDate : undefined),
        entry,
        nowMs,
      });
      noted.push({ record, entry, news, lastChance });
      return record;
    },

    async finish(outcomes) {
      // Every sweep's result carries coverage (contract section 4); `unknown` says why it is empty.
      const coverage: SweepCoverage = heartbeats
        ? coverageOf(heartbeats, nowMs)
        : {
            expected: 0,
            silent: [],
            unknown: ledger
              ? 'spoke heartbeats could not be read from the ledger'
              : 'no ledger (LEDGER_TABLE): spoke heartbeats are not recorded',
          };
      if (coverage.unknown === undefined) ports.metric?.('SilentSpokes', coverage.silent.length);
      const news = noted.filter((n) => n.news).map((n) => n.record);
      const lastChance = noted.filter((n) => n.lastChance).map((n) => n.record);
      const silent = coverage.silent;
      // The event gives the digest its id and time.
      const digest = buildDigest({
        ...event,
        mode: ports.policy.mode,
        summary: summarise(outcomes),
        news,
        lastChance,
        silent,
      });
      const delivered = digest ? await publish(ports, digest) : undefined;
      if (digest) {
        ports.progress('sweep digest', {
          eventId: event.eventId,
          subject: digest.subject,
          bytes: digest.bytes,
          shown: digest.shown,
          more: digest.more,
          published: delivered ?? 'no topic',
        });
      }
      if (ledger) await writeEntries(ports, entriesToWrite(noted, delivered === true, nowMs), event);
      const onlyEffect =
        news.some((r) => NOTIFICATION_ONLY.has(r.outcome)) || lastChance.length > 0 || silent.length > 0;
      return { coverage, undelivered: delivered === false && onlyEffect ? 1 : 0 };
    },
  };
}

/** The entries that tell the ledger something new; notified and last-chance only when the digest went out. */
function entriesToWrite(noted: readonly Noted[], delivered: boolean, nowMs: number): LedgerEntry[] {
  const writes: LedgerEntry[] = [];
  for (const { record, entry, news, lastChance } of noted) {
    const arn = record.key.arn;
    // Not written: a key no longer pending, and what an event would not remember either.
    if (!arn || record.outcome === 'not-pending' || NOT_REMEMBERED.has(record.outcome)) continue;
    const deletionDate = scheduleDate({
      deletionDate: record.deletionDate ?? entry?.deletionDate,
      // No date from CCKM: the longest window from now bounds the schedule (the entry expires after it).
      eventTime: new Date(nowMs).toISOString(),
    });
    if (deletionDate === undefined) continue;
    const next = nextEntry({
      previous: entry,
      arn,
      deletionDate,
      outcome: record.outcome,
      reason: record.reason,
      source: 'sweep',
      eventId: record.eventId,
      notified: news && delivered,
      lastChanceSent: lastChance && delivered,
      nowMs,
    });
    if (next) writes.push(next);
  }
  return writes;
}
