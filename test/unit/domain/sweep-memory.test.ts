import { describe, expect, it } from 'vitest';
import type { DigestNotification } from '../../../functions/domain/digest.ts';
import type { Heartbeat, Ledger, LedgerEntry } from '../../../functions/domain/ledger.ts';
import { LedgerError } from '../../../functions/domain/ledger.ts';
import type { Notification, RemediationPorts } from '../../../functions/domain/ports.ts';
import { assertComplete, remediate } from '../../../functions/domain/remediation.ts';
import type { OutcomeRecord, RemediationResult } from '../../../functions/domain/remediation-outcome.ts';
import { RemediationIncompleteError } from '../../../functions/domain/remediation-outcome.ts';
import { LEDGER_UNREADABLE_NOTE } from '../../../functions/domain/sweep-memory.ts';
import type { PolicyConfig } from '../../../functions/shared/config.ts';
import type { GuardMetric } from '../../../functions/shared/telemetry.ts';
import { FakeCm, fixture, key, policyOf } from '../../helpers/fake-cckm.ts';

/** The ledger rules as remediate() applies them (contract sections 4 and 7), with an in-memory ledger. */

const HOUR = 3_600_000;
/** A day after the sample event (2021-03-23T18:58:30Z); its key's deletion date is 2021-04-12. */
const NOW = Date.parse('2021-03-24T18:58:30Z');
const EVENT_DELETION_DATE = '2021-04-12T18:58:30.000Z';
const ALICE = 'arn:aws:iam::111122223333:user/Alice';

class MemoryLedger implements Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  heartbeats: Heartbeat[] = [];
  readonly calls: string[] = [];
  failReads = false;
  failWrites = false;

  async readDecisions(arns: readonly string[]): Promise<Map<string, LedgerEntry>> {
    this.calls.push('readDecisions');
    if (this.failReads) throw new LedgerError('read', 'connect ECONNREFUSED 127.0.0.1:8000');
    return new Map(arns.flatMap((a) => (this.entries.has(a) ? [[a, this.entries.get(a)!]] : [])));
  }

  async recordDecisions(entries: readonly LedgerEntry[]): Promise<void> {
    this.calls.push('recordDecisions');
    if (this.failWrites) throw new LedgerError('write', 'throttled');
    for (const e of entries) this.entries.set(e.arn, e);
  }

  async recordHeartbeat(heartbeat: Heartbeat): Promise<void> {
    this.heartbeats.push(heartbeat);
  }

  async readHeartbeats(sinceMs: number): Promise<Heartbeat[]> {
    this.calls.push('readHeartbeats');
    if (this.failReads) throw new LedgerError('read', 'connect ECONNREFUSED 127.0.0.1:8000');
    return this.heartbeats.filter((h) => Date.parse(h.time) >= sinceMs);
  }
}

interface Harness {
  readonly fake: FakeCm;
  readonly ledger?: MemoryLedger;
  readonly notes: Notification[];
  readonly metrics: [GuardMetric, number][];
  readonly audit: OutcomeRecord[];
  publishFails: boolean;
  now: number;
  run(event: unknown, policy?: Partial<PolicyConfig>): Promise<RemediationResult>;
}

function harness(fake: FakeCm, withLedger = true): Harness {
  const ledger = withLedger ? new MemoryLedger() : undefined;
  const h: Harness = {
    fake,
    ...(ledger && { ledger }),
    notes: [],
    metrics: [],
    audit: [],
    publishFails: false,
    now: NOW,
    async run(event, policy = {}) {
      const ports: RemediationPorts = {
        cckm: fake,
        policy: policyOf(policy),
        audit: (r) => h.audit.push(r),
        progress: () => undefined,
        notify: async (n) => {
          if (h.publishFails) return false;
          h.notes.push(n);
          return true;
        },
        ...(ledger && { ledger }),
        metric: (name, value) => h.metrics.push([name, value]),
        now: () => h.now,
        deadline: h.now + 60_000,
      };
      return remediate(event, ports);
    },
  };
  return h;
}

const digests = (notes: readonly Notification[]): DigestNotification[] =>
  notes.filter((n): n is DigestNotification => 'headline' in n);
const itemsOf = (digest: DigestNotification) =>
  (JSON.parse(digest.message) as { items: { type: string; outcome?: string; lastChance?: boolean }[] }).items;
const sweep = () => fixture('scheduled-sweep');

describe('a CloudTrail event and the ledger', () => {
  it('records the decision of an event, with the schedule date, the actor and what was notified', async () => {
    const ledgerKey = key({ deletionDate: EVENT_DELETION_DATE });
    const h = harness(new FakeCm([ledgerKey]));
    const result = await h.run(fixture('schedule-single-region'), { allowedPrincipals: [ALICE] });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['allowed']);
    expect(h.ledger?.entries.get(ledgerKey.arn)).toMatchObject({
      decision: 'allowed',
      source: 'event',
      actor: ALICE,
      notified: ['allowed'],
    });
    expect(Date.parse(h.ledger!.entries.get(ledgerKey.arn)!.deletionDate)).toBe(
      Date.parse(EVENT_DELETION_DATE),
    );
  });

  it('writes nothing for a denied attempt', async () => {
    const h = harness(new FakeCm([]));
    await h.run(fixture('schedule-denied'));
    expect(h.ledger?.calls).toEqual([]);
    expect(h.notes).toHaveLength(1);
  });

  it('throws after deciding when the only effect, the notification, could not be published', async () => {
    const h = harness(new FakeCm([key()]));
    h.publishFails = true;
    const result = await h.run(fixture('schedule-single-region'), { mode: 'detect' });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['detected']);
    expect(result.undelivered).toBe(1);
    expect(() => assertComplete(result)).toThrow(RemediationIncompleteError);
    expect(h.metrics).toContainEqual(['NotificationsFailed', 1]);
    // Not recorded as notified: the retry tells again.
    expect(h.ledger?.entries.get(key().arn)?.notified).toEqual([]);
  });

  it('does not fail a cancelled key when its notification could not be published', async () => {
    const h = harness(new FakeCm([key()]));
    h.publishFails = true;
    const result = await h.run(fixture('schedule-single-region'));
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(result.undelivered).toBeUndefined();
    expect(() => assertComplete(result)).not.toThrow();
    expect(h.metrics).toEqual([['NotificationsFailed', 1]]);
  });

  it('still decides, and never fails the key, when the ledger write fails', async () => {
    const h = harness(new FakeCm([key()]));
    h.ledger!.failWrites = true;
    const result = await h.run(fixture('schedule-single-region'));
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(h.metrics).toEqual([['LedgerErrors', 1]]);
  });
});

describe('a sweep and the ledger', () => {
  it('honours an earlier allowed deletion for three sweeps: no cancel, one notification', async () => {
    const ledgerKey = key({ deletionDate: EVENT_DELETION_DATE });
    const h = harness(new FakeCm([ledgerKey]));
    await h.run(fixture('schedule-single-region'), { allowedPrincipals: [ALICE] });
    for (let i = 1; i <= 3; i++) {
      h.now = NOW + i * HOUR;
      const result = await h.run(sweep());
      expect(result.summary).toEqual({ allowed: 1 });
      expect(result.outcomes[0]?.reason).toContain(ALICE);
      expect(result.outcomes[0]?.reason).toContain('honoured until the deletion date 2021-04-12');
    }
    expect(h.fake.stateChangingCalls()).toEqual([]);
    expect(h.notes).toHaveLength(1);
  });

  it('decides a new schedule of the same key afresh (cancelled, then scheduled again)', async () => {
    const ledgerKey = key({ deletionDate: '2021-04-20T00:00:00.000Z' });
    const h = harness(new FakeCm([ledgerKey]));
    h.ledger!.entries.set(ledgerKey.arn, {
      arn: ledgerKey.arn,
      deletionDate: EVENT_DELETION_DATE,
      decision: 'allowed',
      reason: 'allowed principal',
      source: 'event',
      eventId: 'earlier',
      actor: ALICE,
      decidedAt: '2021-03-23T18:58:30.000Z',
      notified: ['allowed'],
    });
    const result = await h.run(sweep());
    expect(result.summary).toEqual({ cancelled: 1 });
  });

  it('tells each detected key once over three detect-mode sweeps, in one digest', async () => {
    const keys = [0, 1, 2].map((i) =>
      key({ keyId: `0000000${i}-0000-4000-8000-000000000000`, deletionDate: '2021-04-20T00:00:00.000Z' }),
    );
    const h = harness(new FakeCm(keys));
    for (let i = 0; i < 3; i++) {
      h.now = NOW + i * HOUR;
      const result = await h.run(sweep(), { mode: 'detect' });
      expect(result.summary).toEqual({ detected: 3 });
    }
    expect(h.notes).toHaveLength(1);
    expect(itemsOf(digests(h.notes)[0]!).map((i) => i.outcome)).toEqual(['detected', 'detected', 'detected']);
    // One read of decisions and heartbeats per sweep; writes only while something changed.
    expect(h.ledger!.calls.filter((c) => c === 'readDecisions')).toHaveLength(3);
    expect(h.ledger!.calls.filter((c) => c === 'recordDecisions')).toHaveLength(1);
  });

  it('sends one last-chance line for a key still pending less than 24 hours before its deletion', async () => {
    const soon = key({ deletionDate: new Date(NOW + 23 * HOUR).toISOString() });
    const later = key({
      keyId: '00000009-0000-4000-8000-000000000000',
      deletionDate: '2021-04-20T00:00:00.000Z',
    });
    const h = harness(new FakeCm([soon, later]));
    await h.run(sweep(), { mode: 'detect' });
    h.now = NOW + HOUR;
    await h.run(sweep(), { mode: 'detect' });
    expect(h.notes).toHaveLength(1);
    const digest = digests(h.notes)[0]!;
    expect(digest.subject).toContain('1 last-chance');
    expect(itemsOf(digest).filter((i) => i.lastChance)).toHaveLength(1);
    expect(h.ledger!.entries.get(soon.arn)?.lastChanceAt).toBeDefined();
    expect(h.ledger!.entries.get(later.arn)?.lastChanceAt).toBeUndefined();
  });

  it('cancels when the ledger cannot be read, says so in the reason and counts the error', async () => {
    const ledgerKey = key({ deletionDate: EVENT_DELETION_DATE });
    const h = harness(new FakeCm([ledgerKey]));
    await h.run(fixture('schedule-single-region'), { allowedPrincipals: [ALICE] });
    h.ledger!.failReads = true;
    const result = await h.run(sweep(), { allowedPrincipals: [ALICE] });
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(result.outcomes[0]?.reason).toContain(LEDGER_UNREADABLE_NOTE);
    expect(result.coverage?.unknown).toBeDefined();
    expect(h.metrics).toEqual([
      ['LedgerErrors', 1],
      ['LedgerErrors', 1],
    ]);
  });

  it('reports a pair silent for 3 hours, not one that never sent, in coverage, the metric and the digest', async () => {
    const h = harness(new FakeCm([]));
    h.ledger!.heartbeats = [
      { account: '444455556666', region: 'eu-west-1', time: new Date(NOW - 3 * HOUR).toISOString() },
      { account: '111122223333', region: 'us-east-1', time: new Date(NOW - 10 * 60_000).toISOString() },
    ];
    const result = await h.run(sweep());
    expect(result.coverage).toEqual({
      expected: 2,
      silent: [
        {
          account: '444455556666',
          region: 'eu-west-1',
          lastSeen: new Date(NOW - 3 * HOUR).toISOString(),
          silentForMinutes: 180,
        },
      ],
    });
    expect(h.metrics).toEqual([['SilentSpokes', 1]]);
    expect(digests(h.notes)[0]?.subject).toContain('1 silent spoke');
  });

  it('does not record as notified what a failed digest carried, and throws when it was the only effect', async () => {
    const h = harness(new FakeCm([key({ deletionDate: '2021-04-20T00:00:00.000Z' })]));
    h.publishFails = true;
    const result = await h.run(sweep(), { mode: 'detect' });
    expect(result.undelivered).toBe(1);
    expect(() => assertComplete(result)).toThrow(/could not be published/);
    expect(h.metrics).toContainEqual(['NotificationsFailed', 1]);
    h.publishFails = false;
    await h.run(sweep(), { mode: 'detect' });
    expect(h.notes).toHaveLength(1);
  });

  it('logs and counts a failed write, never a failed key', async () => {
    const h = harness(new FakeCm([key({ deletionDate: '2021-04-20T00:00:00.000Z' })]));
    h.ledger!.failWrites = true;
    const result = await h.run(sweep());
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(() => assertComplete(result)).not.toThrow();
    expect(h.metrics).toContainEqual(['LedgerErrors', 1]);
  });
});

describe('a sweep without a ledger', () => {
  it('sends one digest of what a person must hear, quiet about exempt keys, with coverage unknown', async () => {
    const keys = [0, 1].map((i) => key({ keyId: `0000000${i}-0000-4000-8000-000000000000` }));
    const exempt = key({ tags: [{ key: 'deletion-guard:exempt', value: 'true' }] });
    const h = harness(new FakeCm([...keys, exempt]), false);
    const result = await h.run(sweep());
    expect(result.summary).toEqual({ cancelled: 2, exempt: 1 });
    expect(result.coverage).toEqual({
      expected: 0,
      silent: [],
      unknown: 'no ledger (LEDGER_TABLE): spoke heartbeats are not recorded',
    });
    expect(h.notes).toHaveLength(1);
    expect(itemsOf(digests(h.notes)[0]!).map((i) => i.outcome)).toEqual(['cancelled', 'cancelled']);
  });

  it('sends nothing when there is nothing new', async () => {
    const h = harness(new FakeCm([]), false);
    await h.run(sweep());
    expect(h.notes).toEqual([]);
  });
});
