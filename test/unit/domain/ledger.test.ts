import { describe, expect, it } from 'vitest';
import type { Heartbeat, LedgerEntry } from '../../../functions/domain/ledger.ts';
import {
  allowedStillHonoured,
  alreadyNotified,
  coverageOf,
  currentEntry,
  decisionExpiry,
  heartbeatExpiry,
  LedgerError,
  lastChanceDue,
  nextEntry,
  sameSchedule,
  scheduleDate,
} from '../../../functions/domain/ledger.ts';

const ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NOW = Date.parse('2025-06-01T12:00:00Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function entry(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    arn: ARN,
    deletionDate: '2025-06-20T12:00:00.000Z',
    decision: 'allowed',
    reason: 'allowed principal arn:aws:iam::111122223333:role/Decom',
    source: 'event',
    eventId: 'ev-1',
    actor: 'arn:aws:iam::111122223333:role/Decom',
    decidedAt: '2025-05-21T12:00:00.000Z',
    notified: ['allowed'],
    ...overrides,
  };
}

describe('schedule identity', () => {
  it('treats deletion dates less than 24 hours apart as one schedule, across midnight too', () => {
    expect(sameSchedule('2025-06-20T23:30:00Z', '2025-06-21T00:10:00Z')).toBe(true);
    expect(sameSchedule('2025-06-20T12:00:00Z', '2025-06-21T11:59:59Z')).toBe(true);
  });

  it('treats dates 24 hours or more apart, or unreadable ones, as different schedules', () => {
    expect(sameSchedule('2025-06-20T12:00:00Z', '2025-06-21T12:00:00Z')).toBe(false);
    expect(sameSchedule('2025-06-20T12:00:00Z', undefined)).toBe(false);
    expect(sameSchedule('not a date', 'not a date')).toBe(false);
  });

  it('derives an event date from its time and window when the event has no readable date', () => {
    expect(scheduleDate({ eventTime: '2025-06-01T12:00:00Z', pendingWindowInDays: 7 })).toBe(
      '2025-06-08T12:00:00.000Z',
    );
    expect(scheduleDate({ eventTime: '2025-06-01T12:00:00Z' })).toBe('2025-07-01T12:00:00.000Z');
    expect(scheduleDate({ deletionDate: 'Jun 8, 2025 1:00:00 PM', eventTime: '2025-06-01T12:00:00Z' })).toBe(
      '2025-06-08T13:00:00.000Z',
    );
    expect(scheduleDate({})).toBeUndefined();
  });

  it('keeps the entry of the current schedule and drops one of an earlier schedule', () => {
    const e = entry();
    expect(currentEntry(e, '2025-06-20T18:00:00Z', NOW)).toBe(e);
    expect(currentEntry(e, '2025-07-01T12:00:00Z', NOW)).toBeUndefined();
    expect(currentEntry(undefined, '2025-06-20T12:00:00Z', NOW)).toBeUndefined();
  });

  it('matches a key whose date is unknown only while the remembered schedule has not ended', () => {
    const e = entry();
    expect(currentEntry(e, undefined, NOW)).toBe(e);
    expect(currentEntry(e, undefined, Date.parse('2025-06-21T00:00:00Z'))).toBeUndefined();
  });
});

describe('decisions that last', () => {
  it('honours an earlier allowed until that schedule deletion date', () => {
    expect(allowedStillHonoured(entry(), NOW)).toBe(true);
    expect(allowedStillHonoured(entry(), Date.parse('2025-06-20T12:00:00Z'))).toBe(false);
  });

  it('honours nothing but allowed', () => {
    expect(allowedStillHonoured(entry({ decision: 'detected' }), NOW)).toBe(false);
    expect(allowedStillHonoured(undefined, NOW)).toBe(false);
  });
});

describe('notified once per schedule', () => {
  it('says allowed, exempt, detected and not-managed were notified when the entry lists them', () => {
    const e = entry({ notified: ['allowed', 'exempt', 'detected', 'not-managed'] });
    for (const outcome of ['allowed', 'exempt', 'detected', 'not-managed'] as const) {
      expect(alreadyNotified(e, outcome)).toBe(true);
      expect(alreadyNotified(entry({ notified: [] }), outcome)).toBe(false);
    }
  });

  it('never suppresses cancelled or failed, which a person must hear about every time', () => {
    const e = entry({ notified: ['cancelled', 'failed'] });
    expect(alreadyNotified(e, 'cancelled')).toBe(false);
    expect(alreadyNotified(e, 'failed')).toBe(false);
    expect(alreadyNotified(undefined, 'allowed')).toBe(false);
  });
});

describe('last chance', () => {
  const soon = iso(NOW + 23 * HOUR);

  it('is due for a key still pending less than 24 hours before its deletion date', () => {
    for (const outcome of ['allowed', 'exempt', 'detected', 'not-managed', 'failed'] as const) {
      expect(lastChanceDue({ outcome, deletionDate: soon, entry: undefined, nowMs: NOW })).toBe(true);
    }
  });

  it('is sent once per schedule', () => {
    const sent = entry({ deletionDate: soon, lastChanceAt: iso(NOW - HOUR) });
    expect(lastChanceDue({ outcome: 'allowed', deletionDate: soon, entry: sent, nowMs: NOW })).toBe(false);
  });

  it('is not due further out, after the date, without a date, or for a key no longer pending', () => {
    const far = iso(NOW + 25 * HOUR);
    expect(lastChanceDue({ outcome: 'allowed', deletionDate: far, entry: undefined, nowMs: NOW })).toBe(
      false,
    );
    expect(
      lastChanceDue({ outcome: 'allowed', deletionDate: iso(NOW - 1), entry: undefined, nowMs: NOW }),
    ).toBe(false);
    expect(lastChanceDue({ outcome: 'allowed', deletionDate: undefined, entry: undefined, nowMs: NOW })).toBe(
      false,
    );
    expect(lastChanceDue({ outcome: 'cancelled', deletionDate: soon, entry: undefined, nowMs: NOW })).toBe(
      false,
    );
  });
});

describe('nextEntry', () => {
  const base = {
    arn: ARN,
    deletionDate: '2025-06-20T13:00:00.000Z',
    outcome: 'allowed' as const,
    reason: 'allowed by the ledger',
    source: 'sweep' as const,
    eventId: 'sweep-2',
    notified: false,
    lastChanceSent: false,
    nowMs: NOW,
  };

  it('writes nothing when a sweep repeats what is remembered', () => {
    expect(nextEntry({ ...base, previous: entry() })).toBeUndefined();
  });

  it('keeps the first decision history and adds what was notified now', () => {
    const next = nextEntry({ ...base, previous: entry(), lastChanceSent: true });
    expect(next).toEqual({ ...entry(), lastChanceAt: iso(NOW) });
  });

  it('records a changed decision of the same schedule with the remembered date', () => {
    const next = nextEntry({
      ...base,
      previous: entry({ decision: 'detected', notified: ['detected'] }),
      outcome: 'cancelled',
      reason: 'cancel',
      notified: true,
    });
    expect(next).toMatchObject({
      decision: 'cancelled',
      deletionDate: '2025-06-20T12:00:00.000Z',
      eventId: 'sweep-2',
      decidedAt: iso(NOW),
      notified: ['detected', 'cancelled'],
    });
  });

  it('lets a CloudTrail event replace the decision and forget earlier notifications', () => {
    const next = nextEntry({
      ...base,
      previous: entry(),
      source: 'event',
      eventId: 'ev-2',
      outcome: 'cancelled',
      actor: 'arn:aws:iam::111122223333:user/Mallory',
      notified: true,
    });
    expect(next).toEqual({
      arn: ARN,
      deletionDate: base.deletionDate,
      decision: 'cancelled',
      reason: 'allowed by the ledger',
      source: 'event',
      eventId: 'ev-2',
      actor: 'arn:aws:iam::111122223333:user/Mallory',
      decidedAt: iso(NOW),
      notified: ['cancelled'],
    });
  });

  it('starts a new entry for a new schedule', () => {
    const next = nextEntry({ ...base, previous: undefined, outcome: 'detected', notified: true });
    expect(next).toMatchObject({
      decision: 'detected',
      deletionDate: base.deletionDate,
      notified: ['detected'],
    });
  });
});

describe('expiry', () => {
  it('lets a decision expire a week after its deletion date', () => {
    expect(decisionExpiry('2025-06-20T12:00:00.000Z')).toBe(Date.parse('2025-06-27T12:00:00Z') / 1000);
  });

  it('lets a heartbeat expire a week after it was seen', () => {
    expect(heartbeatExpiry('2025-06-01T12:00:00.500Z')).toBe(Date.parse('2025-06-08T12:00:01Z') / 1000);
  });

  it('refuses an unreadable date with a LedgerError naming it', () => {
    expect(() => decisionExpiry('soon')).toThrow(LedgerError);
    expect(() => decisionExpiry('soon')).toThrow(/deletion date/);
    expect(() => heartbeatExpiry('')).toThrow(/heartbeat needs a readable time/);
  });
});

describe('coverage', () => {
  const hb = (account: string, region: string, agoMs: number): Heartbeat => ({
    account,
    region,
    time: iso(NOW - agoMs),
  });

  it('reports a pair silent for 3 hours with its last time seen, and not one heard an hour ago', () => {
    const coverage = coverageOf(
      [hb('111122223333', 'eu-west-1', 3 * HOUR), hb('111122223333', 'us-east-1', HOUR)],
      NOW,
    );
    expect(coverage).toEqual({
      expected: 2,
      silent: [
        {
          account: '111122223333',
          region: 'eu-west-1',
          lastSeen: iso(NOW - 3 * HOUR),
          silentForMinutes: 180,
        },
      ],
    });
  });

  it('does not expect a pair last heard more than 7 days ago, nor one never heard', () => {
    expect(coverageOf([hb('444455556666', 'eu-west-1', 8 * 24 * HOUR)], NOW)).toEqual({
      expected: 0,
      silent: [],
    });
    expect(coverageOf([], NOW)).toEqual({ expected: 0, silent: [] });
  });

  it('uses the latest heartbeat of a pair and lists the longest silent first', () => {
    const coverage = coverageOf(
      [hb('1', 'a', 5 * HOUR), hb('1', 'a', 30 * 60_000), hb('2', 'b', 3 * HOUR), hb('3', 'c', 9 * HOUR)],
      NOW,
    );
    expect(coverage.expected).toBe(3);
    expect(coverage.silent.map((s) => s.account)).toEqual(['3', '2']);
  });

  it('ignores a heartbeat with an unreadable time, and expects a pair heard exactly 7 days ago', () => {
    const coverage = coverageOf(
      [{ account: '1', region: 'a', time: 'yesterday' }, hb('2', 'b', 7 * 24 * HOUR)],
      NOW,
    );
    expect(coverage.expected).toBe(1);
    expect(coverage.silent.map((s) => s.account)).toEqual(['2']);
  });

  it('does not report a pair silent for exactly 2 hours', () => {
    expect(coverageOf([hb('1', 'a', 2 * HOUR)], NOW).silent).toEqual([]);
  });
});
