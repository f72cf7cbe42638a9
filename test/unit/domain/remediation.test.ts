import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../functions/domain/ports.ts';
import { assertComplete, mapBounded, remediate } from '../../../functions/domain/remediation.ts';
import type { OutcomeRecord } from '../../../functions/domain/remediation-outcome.ts';
import { RemediationIncompleteError } from '../../../functions/domain/remediation-outcome.ts';
import type { PolicyConfig } from '../../../functions/shared/config.ts';
import {
  AuthenticationError,
  ConfigError,
  TimeoutError,
  UpstreamError,
} from '../../../functions/shared/errors.ts';
import { FakeCm, fixture, key, policyOf, withState } from '../../helpers/fake-cckm.ts';

const SINGLE_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const MRK_KEY_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
const EXEMPT = { key: 'deletion-guard:exempt', value: 'true' };

interface Run {
  readonly fake: FakeCm;
  readonly audit: OutcomeRecord[];
  readonly notes: Notification[];
  readonly progress: { message: string; fields: Readonly<Record<string, unknown>> }[];
}

async function run(
  event: unknown,
  fake: FakeCm,
  policy: Partial<PolicyConfig> = {},
  options: { deadline?: number; now?: () => number; concurrency?: number; notify?: boolean } = {},
) {
  const audit: OutcomeRecord[] = [];
  const notes: Notification[] = [];
  const progress: Run['progress'] = [];
  const unexpected: { message: string; error: unknown; fields: Readonly<Record<string, unknown>> }[] = [];
  const now = options.now ?? (() => 1_000_000);
  const result = await remediate(event, {
    cckm: fake,
    policy: policyOf(policy),
    audit: (r) => audit.push(r),
    progress: (message, fields) => progress.push({ message, fields }),
    unexpected: (message, error, fields) => unexpected.push({ message, error, fields }),
    notify:
      options.notify === false
        ? undefined
        : async (n) => {
            notes.push(n);
            return true;
          },
    now,
    deadline: options.deadline ?? now() + 60_000,
    concurrency: options.concurrency,
  });
  return { result, audit, notes, progress, unexpected, fake };
}

/** The outcomes a person was told about: a key message's outcome, or each key line of a digest. */
function told(notes: readonly Notification[]): string[] {
  return notes.flatMap((n) =>
    'headline' in n
      ? (JSON.parse(n.message) as { items: { type: string; outcome?: string }[] }).items
          .filter((i) => i.type === 'key')
          .map((i) => String(i.outcome))
      : [n.outcome],
  );
}

describe('event kind x policy -> outcome (documented fixtures, fake CipherTrust Manager)', () => {
  // Each row: fixture, the CCKM record (state as CCKM shows it; AWS truth), policy, outcome, calls.
  const rows: {
    name: string;
    fixture: string;
    cckm?: { keyId?: string; region?: string; state: string; aws?: string; tags?: (typeof EXEMPT)[] };
    policy?: Partial<PolicyConfig>;
    outcome: string;
    calls: string[];
  }[] = [
    {
      name: 'single-Region, defaults, CCKM synced',
      fixture: 'schedule-single-region',
      cckm: { state: 'PendingDeletion' },
      outcome: 'cancelled',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'single-Region, CCKM stale (shows Enabled), if-previously-enabled',
      fixture: 'schedule-single-region',
      cckm: { state: 'Enabled', aws: 'PendingDeletion' },
      outcome: 'cancelled-and-enabled',
      calls: ['findAwsKey', 'cancelDeletion', 'enableKey'],
    },
    {
      name: 'single-Region, CCKM stale (shows Disabled), if-previously-enabled',
      fixture: 'schedule-single-region',
      cckm: { state: 'Disabled', aws: 'PendingDeletion' },
      outcome: 'cancelled',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'single-Region, REENABLE=always',
      fixture: 'schedule-single-region',
      cckm: { state: 'PendingDeletion' },
      policy: { reenable: 'always' },
      outcome: 'cancelled-and-enabled',
      calls: ['findAwsKey', 'cancelDeletion', 'enableKey'],
    },
    {
      name: 'single-Region, CCKM stale Enabled, REENABLE=never',
      fixture: 'schedule-single-region',
      cckm: { state: 'Enabled', aws: 'PendingDeletion' },
      policy: { reenable: 'never' },
      outcome: 'cancelled',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'single-Region, already cancelled in AWS (duplicate)',
      fixture: 'schedule-single-region',
      cckm: { state: 'Disabled', aws: 'Disabled' },
      outcome: 'not-pending',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'single-Region, exempt tag',
      fixture: 'schedule-single-region',
      cckm: { state: 'PendingDeletion', tags: [EXEMPT] },
      outcome: 'exempt',
      calls: ['findAwsKey'],
    },
    {
      name: 'single-Region, Alice allowed',
      fixture: 'schedule-single-region',
      cckm: { state: 'PendingDeletion' },
      policy: { allowedPrincipals: ['arn:aws:iam::111122223333:user/Alice'] },
      outcome: 'allowed',
      calls: ['findAwsKey'],
    },
    {
      name: 'single-Region, detect',
      fixture: 'schedule-single-region',
      cckm: { state: 'PendingDeletion' },
      policy: { mode: 'detect' },
      outcome: 'detected',
      calls: ['findAwsKey'],
    },
    {
      name: 'single-Region, not in CCKM',
      fixture: 'schedule-single-region',
      outcome: 'not-managed',
      calls: ['findAwsKey'],
    },
    {
      name: 'multi-Region primary (PendingReplicaDeletion)',
      fixture: 'schedule-multi-region-primary',
      cckm: { keyId: MRK_KEY_ID, state: 'PendingReplicaDeletion' },
      outcome: 'cancelled',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'multi-Region primary, same mrk- id only in another Region',
      fixture: 'schedule-multi-region-primary',
      cckm: { keyId: MRK_KEY_ID, region: 'eu-west-1', state: 'PendingReplicaDeletion' },
      outcome: 'not-managed',
      calls: ['findAwsKey'],
    },
    {
      name: 'assumed role, issuer role allowed',
      fixture: 'schedule-assumed-role',
      cckm: {
        keyId: '0b90f8de-1111-4222-8333-444455556666',
        region: 'eu-central-1',
        state: 'PendingDeletion',
      },
      policy: { allowedPrincipals: ['arn:aws:iam::111122223333:role/Dev'] },
      outcome: 'allowed',
      calls: ['findAwsKey'],
    },
    {
      name: 'assumed role, other role allowed',
      fixture: 'schedule-assumed-role',
      cckm: {
        keyId: '0b90f8de-1111-4222-8333-444455556666',
        region: 'eu-central-1',
        state: 'PendingDeletion',
      },
      policy: { allowedPrincipals: ['arn:aws:iam::111122223333:role/Admin'] },
      outcome: 'cancelled',
      calls: ['findAwsKey', 'cancelDeletion'],
    },
    {
      name: 'denied attempt, any policy',
      fixture: 'schedule-denied',
      cckm: { state: 'Enabled' },
      policy: { allowedPrincipals: ['*'] },
      outcome: 'denied-attempt',
      calls: [],
    },
    {
      name: 'denied attempt, detect',
      fixture: 'schedule-denied',
      cckm: { state: 'Enabled' },
      policy: { mode: 'detect' },
      outcome: 'denied-attempt',
      calls: [],
    },
  ];

  it.each(rows)('$name -> $outcome', async (row) => {
    const records = row.cckm
      ? [
          key({
            keyId: row.cckm.keyId ?? SINGLE_KEY_ID,
            region: row.cckm.region,
            state: row.cckm.state,
            tags: row.cckm.tags,
          }),
        ]
      : [];
    const fake = new FakeCm(records);
    if (row.cckm?.aws && records[0]) fake.setAwsState(records[0].cckmId, row.cckm.aws);
    const { result, audit, notes } = await run(fixture(row.fixture), fake, row.policy);
    expect(result.outcomes.map((o) => o.outcome)).toEqual([row.outcome]);
    expect(fake.methods()).toEqual(row.calls);
    expect(audit).toEqual(result.outcomes);
    expect(told(notes)).toEqual([row.outcome]);
    expect(notes).toHaveLength(1);
  });

  it('records the key, actor, window and deletion date of a cancelled key', async () => {
    const record = key({ state: 'PendingDeletion' });
    const { result } = await run(fixture('schedule-single-region'), new FakeCm([record]));
    expect(result).toEqual({
      eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
      kind: 'schedule-key-deletion',
      outcomes: [
        {
          outcome: 'cancelled',
          reason: 'cancel only (REENABLE=if-previously-enabled): the key is now Disabled',
          key: {
            cckmId: record.cckmId,
            keyId: SINGLE_KEY_ID,
            arn: `arn:aws:kms:us-west-2:111122223333:key/${SINGLE_KEY_ID}`,
            aliases: ['alias/payments'],
            account: '111122223333',
            region: 'us-west-2',
          },
          actor: 'arn:aws:iam::111122223333:user/Alice',
          eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
          eventTime: '2021-03-23T18:58:30Z',
          pendingWindowInDays: 20,
          deletionDate: '2021-04-12T18:58:30.000Z',
          mode: 'remediate',
          kind: 'schedule-key-deletion',
        },
      ],
      summary: { cancelled: 1 },
    });
  });

  it('looks the key up by KeyId, Region and account, with the deadline', async () => {
    const fake = new FakeCm([key({ keyId: MRK_KEY_ID })]);
    await run(fixture('schedule-multi-region-primary'), fake, {}, { deadline: 1_060_000 });
    expect(fake.calls[0]).toEqual({
      method: 'findAwsKey',
      ref: {
        keyId: MRK_KEY_ID,
        region: 'us-west-2',
        account: '111122223333',
        arn: `arn:aws:kms:us-west-2:111122223333:key/${MRK_KEY_ID}`,
      },
      deadline: 1_060_000,
    });
  });

  it('sends the denied attempt with the error and the caller, and no CipherTrust Manager call', async () => {
    const fake = new FakeCm();
    const { result } = await run(fixture('schedule-denied'), fake);
    expect(fake.calls).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({
      outcome: 'denied-attempt',
      reason: expect.stringContaining('AccessDeniedException'),
      actor: 'arn:aws:sts::111122223333:assumed-role/Dev/bob',
      key: { keyId: SINGLE_KEY_ID, region: 'us-west-2', account: '111122223333' },
    });
  });

  it.each(['alarm-ok', 'kms-cmk-deletion', 'unrelated-cancel-key-deletion'])(
    'ignores %s: no outcome, no call, no notification, a log line',
    async (name) => {
      const fake = new FakeCm([key()]);
      const { result, notes, progress } = await run(fixture(name), fake);
      expect(result).toMatchObject({ kind: 'ignored', outcomes: [], summary: {} });
      expect(fake.calls).toEqual([]);
      expect(notes).toEqual([]);
      expect(progress.map((p) => p.message)).toEqual(['event ignored']);
    },
  );

  it('is harmless to repeat: the second delivery is not-pending', async () => {
    const fake = new FakeCm([key()]);
    const first = await run(fixture('schedule-single-region'), fake);
    const second = await run(fixture('schedule-single-region'), fake);
    expect(first.result.summary).toEqual({ cancelled: 1 });
    expect(second.result.summary).toEqual({ 'not-pending': 1 });
  });
});

describe('CipherTrust Manager failures -> failed', () => {
  it.each([
    [
      'UpstreamError',
      new UpstreamError('CipherTrust Manager answered 503 after 3 attempts', { status: 503 }),
    ],
    [
      'AuthenticationError',
      new AuthenticationError('CipherTrust Manager refused the credentials', { status: 401 }),
    ],
    ['TimeoutError', new TimeoutError('the time budget ran out')],
    ['ConfigError (bad secret)', new ConfigError('the secret has no credential field')],
  ])('%s on lookup is failed with the reason, and assertComplete throws', async (_name, error) => {
    const fake = new FakeCm([key()]);
    fake.failures.set('findAwsKey', { error });
    const { result } = await run(fixture('schedule-single-region'), fake);
    expect(result.outcomes[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining(error.message),
    });
    expect(() => assertComplete(result)).toThrow(RemediationIncompleteError);
  });

  it('hands an error that is not an AppError to unexpected, with the key, and CCKM answers not', async () => {
    const defect = new TypeError("Cannot read properties of undefined (reading 'id')");
    const buggy = new FakeCm([key()]);
    buggy.failures.set('cancelDeletion', { error: defect });
    const failed = await run(fixture('schedule-single-region'), buggy);
    expect(failed.result.outcomes[0]).toMatchObject({ outcome: 'failed' });
    expect(failed.unexpected).toEqual([
      {
        message: 'cancel-deletion failed',
        error: defect,
        fields: expect.objectContaining({ cckmId: failed.result.outcomes[0]?.key.cckmId }),
      },
    ]);

    const upstream = new FakeCm([key()]);
    upstream.failures.set('cancelDeletion', { error: new UpstreamError('CipherTrust Manager answered 500') });
    const answered = await run(fixture('schedule-single-region'), upstream);
    expect(answered.result.outcomes[0]).toMatchObject({ outcome: 'failed' });
    expect(answered.unexpected).toEqual([]);
  });

  it('a failed cancel is failed; a failed enable after a cancel says the key is Disabled', async () => {
    const cancelFails = new FakeCm([key()]);
    cancelFails.failures.set('cancelDeletion', {
      error: new UpstreamError('CipherTrust Manager answered 500'),
    });
    expect((await run(fixture('schedule-single-region'), cancelFails)).result.outcomes[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('cancel-deletion failed'),
    });

    const enableFails = new FakeCm([key()]);
    enableFails.failures.set('enableKey', { error: new UpstreamError('CipherTrust Manager answered 500') });
    const { result } = await run(fixture('schedule-single-region'), enableFails, { reenable: 'always' });
    expect(result.outcomes[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('deletion cancelled (the key is Disabled), but enabling it failed'),
    });
  });

  it('a notifier that throws does not change the outcome', async () => {
    const fake = new FakeCm([key()]);
    const result = await remediate(fixture('schedule-single-region'), {
      cckm: fake,
      policy: policyOf(),
      audit: () => undefined,
      progress: () => undefined,
      notify: async () => {
        throw new Error('SNS down');
      },
      now: () => 0,
      deadline: 60_000,
    });
    expect(result.summary).toEqual({ cancelled: 1 });
  });
});

describe('sweep', () => {
  function pendingKeys(n: number, extra: Parameters<typeof key>[0] = {}) {
    return Array.from({ length: n }, (_, i) =>
      key({ keyId: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`, ...extra }),
    );
  }

  it('decides every pending key over all pages, PendingReplicaDeletion included', async () => {
    const fake = new FakeCm([
      ...pendingKeys(5),
      key({ keyId: MRK_KEY_ID, state: 'PendingReplicaDeletion' }),
      key({ keyId: 'ffffffff-0000-4000-8000-000000000000', state: 'Enabled' }),
    ]);
    fake.pageSize = 2;
    const { result, progress } = await run(fixture('scheduled-sweep'), fake);
    expect(result).toMatchObject({ kind: 'sweep', summary: { cancelled: 6 } });
    expect(fake.methods().filter((m) => m === 'listPendingDeletion')).toHaveLength(3);
    expect(progress.filter((p) => p.message === 'sweep listing').map((p) => p.fields.page)).toEqual([
      1, 2, 3,
    ]);
    expect(result.outcomes.every((o) => o.actor === 'sweep')).toBe(true);
  });

  it('acts on the listing without a re-read; a key cancelled since then ends not-pending, unnotified', async () => {
    const keys = pendingKeys(2);
    const fake = new FakeCm(keys);
    const [first] = keys;
    // Someone cancels the first key after the listing but before the guard reaches it.
    const original = fake.cancelDeletion.bind(fake);
    fake.cancelDeletion = async (id, options) => {
      const stale = fake.records.get(id);
      if (id === first?.cckmId && stale) {
        fake.records.set(id, withState(stale, 'Disabled'));
      }
      return original(id, options);
    };
    const { result, notes } = await run(fixture('alarm-alarm'), fake);
    expect(result.summary).toEqual({ 'not-pending': 1, cancelled: 1 });
    expect(told(notes)).toEqual(['cancelled']);
    expect(fake.methods()).not.toContain('getKey');
    expect(fake.stateChangingCalls().map((c) => c.id)).toEqual([keys[0]?.cckmId, keys[1]?.cckmId]);
  });

  it('reports a key removed from CCKM since the listing as not-managed, not failed', async () => {
    const keys = pendingKeys(2);
    const fake = new FakeCm(keys);
    const [first] = keys;
    const original = fake.cancelDeletion.bind(fake);
    fake.cancelDeletion = async (id, options) => {
      if (id === first?.cckmId) fake.records.delete(id);
      return original(id, options);
    };
    const { result } = await run(fixture('scheduled-sweep'), fake);
    expect(result.summary).toEqual({ 'not-managed': 1, cancelled: 1 });
    expect(result.outcomes.find((o) => o.key.cckmId === first?.cckmId)?.reason).toBe(
      'CCKM no longer has a record of this key',
    );
    expect(() => assertComplete(result)).not.toThrow();
  });

  it('keeps exempt keys and never enables under if-previously-enabled (CCKM shows them pending)', async () => {
    const fake = new FakeCm([...pendingKeys(2), ...pendingKeys(1, { tags: [EXEMPT] })]);
    const { result, notes } = await run(fixture('scheduled-sweep'), fake);
    expect(result.summary).toEqual({ cancelled: 2, exempt: 1 });
    expect(fake.methods()).not.toContain('enableKey');
    expect(notes).toHaveLength(1);
    expect(told(notes)).toEqual(['cancelled', 'cancelled']);
  });

  it('in detect mode makes no state-changing call', async () => {
    const fake = new FakeCm(pendingKeys(3));
    const { result } = await run(fixture('scheduled-sweep'), fake, { mode: 'detect' });
    expect(result.summary).toEqual({ detected: 3 });
    expect(fake.stateChangingCalls()).toEqual([]);
  });

  it('never has more than the concurrency bound in flight', async () => {
    const fake = new FakeCm(pendingKeys(50));
    fake.delayMs = 2;
    const { result } = await run(fixture('scheduled-sweep'), fake, {}, { concurrency: 4 });
    expect(result.summary).toEqual({ cancelled: 50 });
    expect(fake.maxInFlight).toBe(4);
  });

  it('stops starting keys when the time budget runs short and marks the rest failed', async () => {
    const fake = new FakeCm(pendingKeys(10));
    let clock = 0;
    fake.onCall = () => {
      clock += 1000;
    };
    // The listing and each key (its cancel) cost 1 s; 1.5 s must be left to start one.
    const { result } = await run(
      fixture('scheduled-sweep'),
      fake,
      {},
      { now: () => clock, deadline: 8_000, concurrency: 1 },
    );
    expect(result.summary).toEqual({ cancelled: 6, failed: 4 });
    expect(
      result.outcomes.filter((o) => o.outcome === 'failed').every((o) => o.reason.startsWith('time budget')),
    ).toBe(true);
    expect(() => assertComplete(result)).toThrow(/4 of 10 key\(s\) failed/);
  });

  it('decides the keys listed before a listing failure, then fails the sweep', async () => {
    const fake = new FakeCm(pendingKeys(3));
    fake.pageSize = 2;
    let pages = 0;
    const list = fake.listPendingDeletion.bind(fake);
    fake.listPendingDeletion = (options) =>
      (async function* () {
        for await (const k of list(options)) {
          yield k;
          if (++pages === 2) throw new UpstreamError('CipherTrust Manager answered 503 after 3 attempts');
        }
      })();
    const { result } = await run(fixture('scheduled-sweep'), fake);
    expect(result.summary).toEqual({ cancelled: 2, failed: 1 });
    expect(result.outcomes.at(-1)?.reason).toContain(
      'listing incomplete: keys pending deletion beyond the 2 listed',
    );
  });

  it('one key failing does not stop the others', async () => {
    const keys = pendingKeys(4);
    const fake = new FakeCm(keys);
    fake.failures.set('cancelDeletion', {
      error: new UpstreamError('CipherTrust Manager answered 500'),
      ids: [keys[1]?.cckmId ?? ''],
    });
    const { result } = await run(fixture('scheduled-sweep'), fake);
    expect(result.summary).toEqual({ cancelled: 3, failed: 1 });
    expect(result.outcomes[1]).toMatchObject({ outcome: 'failed', key: { cckmId: keys[1]?.cckmId } });
  });

  it('logs progress every 100 keys and a summary with the duration', async () => {
    const fake = new FakeCm(pendingKeys(250));
    const { progress } = await run(fixture('scheduled-sweep'), fake, {}, { notify: false });
    expect(progress.filter((p) => p.message === 'sweep progress').map((p) => p.fields.decided)).toEqual([
      100, 200,
    ]);
    expect(progress.find((p) => p.message === 'sweep finished')?.fields).toMatchObject({
      keys: 250,
      summary: { cancelled: 250 },
    });
    expect(progress.at(-1)).toMatchObject({
      message: 'remediation summary',
      fields: { keys: 250, durationMs: 0 },
    });
  });

  it('returns its members in one order, with note, coverage and undelivered only when they say something', async () => {
    const scheduled = await run(fixture('schedule-single-region'), new FakeCm([key()]));
    expect(Object.keys(scheduled.result)).toEqual(['eventId', 'kind', 'outcomes', 'summary']);
    const ignored = await run({ source: 'aws.s3' }, new FakeCm([]));
    expect(Object.keys(ignored.result)).toEqual(['eventId', 'kind', 'note', 'outcomes', 'summary']);
    const swept = await run(fixture('scheduled-sweep'), new FakeCm(pendingKeys(1)));
    expect(Object.keys(swept.result)).toEqual(['eventId', 'kind', 'note', 'outcomes', 'summary', 'coverage']);
  });

  it('a schedule event whose key cannot be resolved falls back to a sweep', async () => {
    const event = fixture('schedule-single-region');
    event.detail = {
      ...(event.detail as object),
      responseElements: {},
      resources: [],
      requestParameters: {},
    };
    const fake = new FakeCm(pendingKeys(1));
    const { result } = await run(event, fake);
    expect(result).toMatchObject({ kind: 'sweep', summary: { cancelled: 1 } });
  });
});

describe('mapBounded', () => {
  it('keeps order and handles an empty list', async () => {
    expect(await mapBounded([3, 1, 2], 2, async (n) => n * 2)).toEqual([6, 2, 4]);
    expect(await mapBounded([], 8, async (n: number) => n)).toEqual([]);
  });
});
