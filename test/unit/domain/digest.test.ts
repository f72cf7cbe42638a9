import { describe, expect, it } from 'vitest';
import type { DigestInput } from '../../../functions/domain/digest.ts';
import {
  buildDigest,
  digestSubject,
  MAX_DIGEST_ITEMS,
  SNS_MESSAGE_LIMIT_BYTES,
} from '../../../functions/domain/digest.ts';
import { MAX_SUBJECT_LENGTH } from '../../../functions/domain/outcome-notification.ts';
import type { Outcome, OutcomeRecord } from '../../../functions/domain/remediation-outcome.ts';
import { summarise } from '../../../functions/domain/remediation-outcome.ts';

function key(i: number, outcome: Outcome, overrides: Partial<OutcomeRecord> = {}): OutcomeRecord {
  const hex = i.toString(16).padStart(12, '0');
  const keyId = `1234abcd-12ab-34cd-56ef-${hex}`;
  return {
    outcome,
    reason:
      outcome === 'failed'
        ? `cancel-deletion failed: UpstreamError: CipherTrust Manager answered 503 after 3 attempts (${'x'.repeat(300)})`
        : 'cancel only (REENABLE=never): the key is now Disabled',
    key: {
      cckmId: `00000000-0000-4000-8000-${hex}`,
      keyId,
      arn: `arn:aws:kms:eu-west-1:111122223333:key/${keyId}`,
      aliases: [`alias/app-${i}`],
      account: '111122223333',
      region: 'eu-west-1',
    },
    actor: 'sweep',
    eventId: 'sweep-event-1',
    deletionDate: new Date(Date.parse('2025-07-01T00:00:00Z') + i * 60_000).toISOString(),
    mode: 'remediate',
    kind: 'sweep',
    ...overrides,
  };
}

function input(news: OutcomeRecord[], overrides: Partial<DigestInput> = {}): DigestInput {
  return {
    eventId: 'sweep-event-1',
    eventTime: '2025-06-01T12:00:00Z',
    mode: 'remediate',
    summary: summarise(news),
    news,
    lastChance: [],
    silent: [],
    ...overrides,
  };
}

/** A sweep of n keys: 1 % failed, 60 % cancelled, 10 % cancelled and enabled, the rest detected. */
function sweepOf(n: number): OutcomeRecord[] {
  return Array.from({ length: n }, (_, i) =>
    key(
      i,
      i % 100 === 0 ? 'failed' : i % 10 < 6 ? 'cancelled' : i % 10 < 7 ? 'cancelled-and-enabled' : 'detected',
    ),
  );
}

describe('buildDigest', () => {
  it('sends nothing when nothing is new', () => {
    expect(buildDigest(input([], { summary: { allowed: 40, 'not-pending': 2 } }))).toBeUndefined();
  });

  it('counts every outcome of the sweep and the new ones separately', () => {
    const news = [key(1, 'cancelled'), key(2, 'failed')];
    const digest = buildDigest(input(news, { summary: { cancelled: 1, failed: 1, allowed: 7 } }))!;
    const body = JSON.parse(digest.message);
    expect(body.counts).toEqual({ cancelled: 1, failed: 1, allowed: 7 });
    expect(body.newCounts).toEqual({ cancelled: 1, failed: 1 });
    expect(body.more).toBe(0);
    expect(body.moreNote).toBeUndefined();
    expect(digest.headline).toBe('failed');
  });

  it('shows failed, then cancelled, then last-chance reminders, then silent spokes, then the rest', () => {
    const news = [key(1, 'detected'), key(2, 'cancelled-and-enabled'), key(3, 'failed'), key(4, 'cancelled')];
    const lastChance = [key(5, 'allowed', { deletionDate: '2025-06-02T10:00:00.000Z' })];
    const silent = [
      {
        account: '444455556666',
        region: 'ap-south-1',
        lastSeen: '2025-06-01T08:00:00.000Z',
        silentForMinutes: 240,
      },
    ];
    const digest = buildDigest(input(news, { lastChance, silent }))!;
    const items = JSON.parse(digest.message).items as {
      type: string;
      outcome?: string;
      lastChance?: boolean;
    }[];
    expect(items.map((i) => (i.type === 'key' ? i.outcome : i.type))).toEqual([
      'failed',
      'cancelled-and-enabled',
      'cancelled',
      'allowed',
      'silent-spoke',
      'detected',
    ]);
    expect(items[3]).toMatchObject({ lastChance: true });
  });

  it('lists a key that is both new and due its last chance once, marked as last chance', () => {
    const detected = key(7, 'detected');
    const digest = buildDigest(input([detected], { lastChance: [detected] }))!;
    const items = JSON.parse(digest.message).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ outcome: 'detected', lastChance: true });
  });

  it('heads the digest with the most pressing news: failed, cancelled, last-chance, silent spokes, then the rest', () => {
    const spoke = {
      account: '444455556666',
      region: 'eu-west-1',
      lastSeen: '2025-06-01T09:00:00.000Z',
      silentForMinutes: 180,
    };
    const due = key(9, 'allowed', { deletionDate: '2025-06-02T10:00:00.000Z' });
    const cases: [OutcomeRecord[], Partial<DigestInput>, string][] = [
      [
        [key(1, 'detected'), key(2, 'cancelled'), key(3, 'failed')],
        { lastChance: [due], silent: [spoke] },
        'failed',
      ],
      [
        [key(1, 'detected'), key(2, 'cancelled-and-enabled'), key(3, 'cancelled')],
        { lastChance: [due] },
        'cancelled',
      ],
      [[key(1, 'detected'), key(2, 'cancelled-and-enabled')], { silent: [spoke] }, 'cancelled-and-enabled'],
      [[key(1, 'detected')], { lastChance: [due], silent: [spoke] }, 'last-chance'],
      [[key(1, 'detected')], { silent: [spoke] }, 'silent-spokes'],
      [[key(1, 'exempt'), key(2, 'allowed'), key(3, 'not-managed')], {}, 'not-managed'],
      [[key(1, 'not-pending'), key(2, 'denied-attempt')], {}, 'denied-attempt'],
      [[key(1, 'not-pending')], {}, 'not-pending'],
    ];
    for (const [news, overrides, headline] of cases) {
      expect(buildDigest(input(news, overrides))!.headline).toBe(headline);
    }
  });

  it('sends a digest for silent spokes alone', () => {
    const silent = [
      {
        account: '444455556666',
        region: 'eu-west-1',
        lastSeen: '2025-06-01T09:00:00.000Z',
        silentForMinutes: 180,
      },
    ];
    const digest = buildDigest(input([], { silent }))!;
    expect(digest.subject).toBe('CCKM Deletion Guard sweep: 1 silent spoke');
    expect(digest.headline).toBe('silent-spokes');
    expect(JSON.parse(digest.message).items).toEqual([{ type: 'silent-spoke', ...silent[0] }]);
  });

  for (const n of [2_000, 10_000]) {
    it(`keeps a ${n}-key digest to ${MAX_DIGEST_ITEMS} keys, says how many more are in the log, and stays under 256 KB`, () => {
      const news = sweepOf(n);
      const digest = buildDigest(input(news))!;
      const body = JSON.parse(digest.message);
      expect(Buffer.byteLength(digest.message, 'utf8')).toBe(digest.bytes);
      expect(digest.bytes).toBeLessThan(SNS_MESSAGE_LIMIT_BYTES);
      expect(body.items).toHaveLength(MAX_DIGEST_ITEMS);
      expect(body.more).toBe(n - MAX_DIGEST_ITEMS);
      expect(body.moreNote).toBe(
        `${n - MAX_DIGEST_ITEMS} more in the log: the audit lines of event sweep-event-1`,
      );
      // Every failed key (1 %) comes before any other.
      const failed = news.filter((r) => r.outcome === 'failed').length;
      expect(
        body.items.slice(0, Math.min(failed, 50)).every((i: { outcome: string }) => i.outcome === 'failed'),
      ).toBe(true);
      expect(body.counts).toEqual(summarise(news));
      expect(digest.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      console.info(`digest of ${n} keys: ${digest.bytes} bytes, subject "${digest.subject}"`);
    });
  }

  it('stays under 256 KB even when every text field is huge and escapes to six bytes a character', () => {
    const hostile = '\u0001'.repeat(5_000);
    const news = Array.from({ length: 2_000 }, (_, i) =>
      key(i, 'failed', {
        reason: hostile,
        key: {
          arn: `${hostile}${i}`,
          aliases: [hostile, hostile, hostile, hostile],
          cckmId: hostile,
          account: hostile,
          region: hostile,
        },
        deletionDate: hostile,
      }),
    );
    const digest = buildDigest(input(news, { eventId: hostile }))!;
    expect(digest.bytes).toBeLessThan(SNS_MESSAGE_LIMIT_BYTES);
    expect(Buffer.byteLength(digest.message, 'utf8')).toBe(digest.bytes);
    const body = JSON.parse(digest.message);
    expect(body.items.length + body.more).toBe(2_000);
    expect(body.items.length).toBeGreaterThan(0);
  });

  it('never cuts a surrogate pair in half when it trims a field', () => {
    const emoji = '\u{1F511}'.repeat(400);
    const digest = buildDigest(input([key(1, 'failed', { reason: emoji })]))!;
    const reason: string = JSON.parse(digest.message).items[0].reason;
    expect(reason).toBe(`${'\u{1F511}'.repeat(297)}...`);
    expect(reason.isWellFormed()).toBe(true);
  });
});

describe('digestSubject', () => {
  it('names what needs a person first, in words a mail list shows', () => {
    expect(digestSubject('remediate', { cancelled: 2, 'cancelled-and-enabled': 1, failed: 1 }, 0, 2)).toBe(
      'CCKM Deletion Guard sweep: 1 failed, 3 cancelled, 2 silent spokes',
    );
    expect(digestSubject('detect', { detected: 5 }, 1, 0)).toBe(
      'CCKM Deletion Guard sweep (detect mode): 1 last-chance, 5 detected',
    );
  });

  it('drops the least important counts rather than exceed 99 characters', () => {
    const subject = digestSubject(
      'detect',
      {
        failed: 123456,
        cancelled: 234567,
        detected: 345678,
        'not-managed': 456789,
        allowed: 567890,
        exempt: 678901,
      },
      789012,
      890123,
    );
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(
      /^CCKM Deletion Guard sweep \(detect mode\): 123456 failed, 234567 cancelled, .*, \.\.\.$/,
    );
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
