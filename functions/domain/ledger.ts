import { DEFAULT_PENDING_WINDOW_DAYS, deriveDeletionDate, parseDeletionDate } from './deletion-date.ts';
import type { Outcome } from './remediation-outcome.ts';

/**
 * The ledger (contract section 7): what the guard decided and notified per key and deletion
 * schedule, and when each (account, Region) pair last sent a spoke heartbeat. This module holds the
 * port the domain calls and the pure rules over what it returns; the DynamoDB adapter lives in
 * `adapters/ledger-dynamodb.ts`. Nothing here does I/O.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Two deletion dates of one key less than this apart are the same schedule. */
export const SAME_SCHEDULE_MS = DAY_MS;
/** A key still pending this close to its deletion date gets its last-chance line. */
export const LAST_CHANCE_MS = DAY_MS;
/** Entries outlive the deletion date (or heartbeat) they concern by this long. */
export const RETENTION_MS = 7 * DAY_MS;
/** A pair that sent a heartbeat within this window is expected to keep sending. */
export const EXPECTED_WINDOW_MS = 7 * DAY_MS;
/** An expected pair silent for longer than this is reported. */
export const SILENT_AFTER_MS = 2 * HOUR_MS;

/** Outcomes a person hears about once per deletion schedule rather than at every sweep. */
export const ONCE_PER_SCHEDULE: ReadonlySet<Outcome> = new Set([
  'allowed',
  'exempt',
  'detected',
  'not-managed',
]);
/** Outcomes after which the key is still pending deletion (a last-chance line may be due). */
const LEAVES_KEY_PENDING: ReadonlySet<Outcome> = new Set([...ONCE_PER_SCHEDULE, 'failed']);

/** What the ledger remembers about one key's current deletion schedule. */
export interface LedgerEntry {
  /** The key's ARN, the ledger's identity of a key. */
  readonly arn: string;
  /** ISO 8601 deletion date of the schedule this entry concerns. */
  readonly deletionDate: string;
  /** The latest decision for this schedule. */
  readonly decision: Outcome;
  /** Why, as the outcome said it (bounded). */
  readonly reason: string;
  /** `event` for a CloudTrail event (replaces any earlier entry), `sweep` otherwise. */
  readonly source: 'event' | 'sweep';
  /** The event that made the decision. */
  readonly eventId: string;
  /** Who scheduled the deletion, when an event said so. */
  readonly actor?: string;
  /** ISO 8601 time of the decision. */
  readonly decidedAt: string;
  /** Outcomes already notified for this schedule. */
  readonly notified: readonly Outcome[];
  /** ISO 8601 time the last-chance line was sent, once. */
  readonly lastChanceAt?: string;
}

/** When one (account, Region) pair last sent a spoke heartbeat. */
export interface Heartbeat {
  readonly account: string;
  readonly region: string;
  /** ISO 8601. */
  readonly time: string;
}

/** A pair expected to send heartbeats that has been silent too long. */
export interface SilentSpoke {
  readonly account: string;
  readonly region: string;
  /** ISO 8601 time of the last heartbeat seen. */
  readonly lastSeen: string;
  readonly silentForMinutes: number;
}

/** The sweep result's `coverage` (contract section 7). */
export interface Coverage {
  /** Pairs with a heartbeat in the last 7 days. */
  readonly expected: number;
  /** Expected pairs silent for more than 2 hours, longest silent first. */
  readonly silent: readonly SilentSpoke[];
}

/** Per-call limits: the call, with its retries, must end before `deadline` (epoch ms). */
export interface LedgerCallOptions {
  readonly deadline?: number;
}

/**
 * The ledger operations the domain uses, batch-oriented so a sweep of n keys costs about n/100
 * reads and n/25 writes rather than n single calls. Every method rejects with LedgerError when the
 * store cannot answer; the domain treats a failed read as "remember nothing" (it cancels) and a
 * failed write as logged + `LedgerErrors`, never a failed key.
 */
export interface Ledger {
  /** The entries for these key ARNs, by ARN; an ARN with no entry (or an unreadable one) is absent. */
  readDecisions(arns: readonly string[], options?: LedgerCallOptions): Promise<Map<string, LedgerEntry>>;
  /** Stores these entries, each replacing the key's earlier entry. */
  recordDecisions(entries: readonly LedgerEntry[], options?: LedgerCallOptions): Promise<void>;
  /** Records a spoke heartbeat; an older heartbeat never replaces a newer one. */
  recordHeartbeat(heartbeat: Heartbeat, options?: LedgerCallOptions): Promise<void>;
  /** Every pair's latest heartbeat at or after `sinceMs` (epoch ms). */
  readHeartbeats(sinceMs: number, options?: LedgerCallOptions): Promise<Heartbeat[]>;
}

/** The store could not be read or written; `operation` says which call. */
export class LedgerError extends Error {
  override readonly name: string = 'LedgerError';
  readonly operation: 'read' | 'write' | 'heartbeat';

  constructor(operation: LedgerError['operation'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.operation = operation;
  }
}

/**
 * The deletion date a schedule is known by: the event's or CCKM's date when readable, else the event
 * time plus the pending window (30 days when the event gave none).
 */
export function scheduleDate(input: {
  readonly deletionDate?: string;
  readonly eventTime?: string;
  readonly pendingWindowInDays?: number;
}): string | undefined {
  return (
    parseDeletionDate(input.deletionDate) ??
    deriveDeletionDate(input.eventTime, input.pendingWindowInDays ?? DEFAULT_PENDING_WINDOW_DAYS)
  );
}

/** True when two deletion dates (ISO 8601) are less than 24 hours apart, so one schedule. */
export function sameSchedule(a: string | undefined, b: string | undefined): boolean {
  // A missing or unreadable date parses to NaN, which is less than nothing: never the same schedule.
  return Math.abs(Date.parse(a ?? '') - Date.parse(b ?? '')) < SAME_SCHEDULE_MS;
}

/**
 * The entry when it concerns the schedule the key is pending now, else undefined (a new schedule is a
 * new decision). A key whose current date is unknown is matched with an entry whose date is still to
 * come: a key has one pending schedule at a time, and that one has not ended.
 */
export function currentEntry(
  entry: LedgerEntry | undefined,
  deletionDate: string | undefined,
  nowMs: number,
): LedgerEntry | undefined {
  if (!entry) return undefined;
  const current = parseDeletionDate(deletionDate);
  const matches =
    current !== undefined ? sameSchedule(entry.deletionDate, current) : beforeDeletion(entry, nowMs);
  return matches ? entry : undefined;
}

/** True when an earlier `allowed` of this schedule still stands: until that schedule's deletion date. */
export function allowedStillHonoured(entry: LedgerEntry | undefined, nowMs: number): boolean {
  return entry?.decision === 'allowed' && beforeDeletion(entry, nowMs);
}

/** True when the entry's deletion date is still to come (never for an unreadable date, which parses to NaN). */
function beforeDeletion(entry: LedgerEntry, nowMs: number): boolean {
  return nowMs < Date.parse(entry.deletionDate);
}

/** True when this outcome was already notified for the entry's schedule and is notified once only. */
export function alreadyNotified(entry: LedgerEntry | undefined, outcome: Outcome): boolean {
  return entry !== undefined && ONCE_PER_SCHEDULE.has(outcome) && entry.notified.includes(outcome);
}

/**
 * True when a key left pending by this outcome is less than 24 hours from its deletion date and its
 * last-chance line has not been sent for this schedule.
 */
export function lastChanceDue(input: {
  readonly outcome: Outcome;
  readonly deletionDate: string | undefined;
  readonly entry: LedgerEntry | undefined;
  readonly nowMs: number;
}): boolean {
  if (!LEAVES_KEY_PENDING.has(input.outcome) || input.entry?.lastChanceAt !== undefined) return false;
  // A missing or unreadable date leaves NaN, which fails both comparisons.
  const left = Date.parse(input.deletionDate ?? '') - input.nowMs;
  return left > 0 && left < LAST_CHANCE_MS;
}

/**
 * The entry to store after deciding a key, or undefined when it would tell the ledger nothing new
 * (a sweep repeating what is remembered writes nothing). A CloudTrail event always replaces.
 */
export function nextEntry(input: {
  /** What the ledger holds for the key, if anything (an event's decision never looks at it). */
  readonly previous?: LedgerEntry;
  readonly arn: string;
  readonly deletionDate: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly source: 'event' | 'sweep';
  readonly eventId: string;
  readonly actor?: string;
  /** The outcome was notified now. */
  readonly notified: boolean;
  /** The last-chance line was sent now (never by an event). */
  readonly lastChanceSent?: boolean;
  readonly nowMs: number;
}): LedgerEntry | undefined {
  const now = new Date(input.nowMs).toISOString();
  const kept = input.source === 'event' ? undefined : input.previous;
  const notified = new Set<Outcome>(kept?.notified ?? []);
  if (input.notified) notified.add(input.outcome);
  const lastChanceAt = kept?.lastChanceAt ?? (input.lastChanceSent ? now : undefined);
  const first = kept?.decision === input.outcome ? kept : undefined;
  if (first && notified.size === first.notified.length && lastChanceAt === first.lastChanceAt) {
    return undefined;
  }
  // `actor` and `lastChanceAt` may be undefined: the adapter stores only what is set.
  return {
    // A repeated decision keeps the reason, event, actor and time that first made it: that is the history.
    ...(first ?? {
      reason: input.reason.slice(0, 500),
      source: input.source,
      eventId: input.eventId,
      actor: input.actor,
      decidedAt: now,
    }),
    arn: input.arn,
    deletionDate: kept?.deletionDate ?? input.deletionDate,
    decision: input.outcome,
    notified: [...notified],
    lastChanceAt,
  };
}

/** Epoch seconds at which DynamoDB may drop a decision entry: a week after its deletion date. */
export function decisionExpiry(deletionDate: string): number {
  return expiry(deletionDate, 'write', 'a ledger entry needs a readable deletion date');
}

/** Epoch seconds at which DynamoDB may drop a heartbeat: a week after it was seen. */
export function heartbeatExpiry(time: string): number {
  return expiry(time, 'heartbeat', 'a heartbeat needs a readable time');
}

/** Epoch seconds a retention after `time`; throws a LedgerError with `message` for an unreadable time. */
function expiry(time: string, operation: LedgerError['operation'], message: string): number {
  const ms = Date.parse(time);
  if (!Number.isFinite(ms)) throw new LedgerError(operation, message);
  return Math.ceil((ms + RETENTION_MS) / 1000);
}

/** The epoch ms from which heartbeats make a pair expected. */
export function expectedSince(nowMs: number): number {
  return nowMs - EXPECTED_WINDOW_MS;
}

/**
 * Coverage from the pairs' latest heartbeats: every pair seen in the last 7 days is expected, and those
 * silent for more than 2 hours are reported, longest silent first. A pair never seen is not expected.
 */
export function coverageOf(heartbeats: readonly Heartbeat[], nowMs: number): Coverage {
  const latest = new Map<string, Heartbeat & { ms: number }>();
  for (const hb of heartbeats) {
    const ms = Date.parse(hb.time);
    // An unreadable time parses to NaN, which is never at or after the window's start.
    if (!(ms >= expectedSince(nowMs))) continue;
    const id = `${hb.account}#${hb.region}`;
    const seen = latest.get(id);
    if (!seen || seen.ms < ms) latest.set(id, { ...hb, ms });
  }
  const silent = [...latest.values()]
    .filter((hb) => nowMs - hb.ms > SILENT_AFTER_MS)
    .sort((a, b) => a.ms - b.ms || a.account.localeCompare(b.account) || a.region.localeCompare(b.region))
    .map((hb) => ({
      account: hb.account,
      region: hb.region,
      lastSeen: new Date(hb.ms).toISOString(),
      silentForMinutes: Math.floor((nowMs - hb.ms) / 60_000),
    }));
  return { expected: latest.size, silent };
}
