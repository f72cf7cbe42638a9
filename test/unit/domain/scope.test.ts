import { describe, expect, it } from 'vitest';
import { cancelKey } from '../../../functions/domain/cancel-key.ts';
import type { Heartbeat, Ledger } from '../../../functions/domain/ledger.ts';
import { LedgerError } from '../../../functions/domain/ledger.ts';
import type { OutcomeNotification } from '../../../functions/domain/outcome-notification.ts';
import { remediate } from '../../../functions/domain/remediation.ts';
import { classifyEvent } from '../../../functions/domain/remediation-event.ts';
import type { OutcomeRecord } from '../../../functions/domain/remediation-outcome.ts';
import {
  type DeploymentScope,
  EVERYWHERE,
  inScope,
  outOfScopeReason,
} from '../../../functions/domain/scope.ts';
import { parseReachConfig } from '../../../functions/shared/config.ts';
import { ConfigError, ForbiddenError, UpstreamError } from '../../../functions/shared/errors.ts';
import { errorResponse } from '../../../functions/shared/http.ts';
import { FakeCm, fixture, key, policyOf } from '../../helpers/fake-cckm.ts';

const PROD = '111122223333';
const DEV = '444455556666';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ID = '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c';

const scope = (accounts: DeploymentScope['accounts'], regions: DeploymentScope['regions']) => ({
  accounts,
  regions,
});

class FakeLedger implements Ledger {
  readonly heartbeats: Heartbeat[] = [];
  fail = false;
  async readDecisions() {
    return new Map();
  }
  async recordDecisions() {}
  async recordHeartbeat(heartbeat: Heartbeat) {
    if (this.fail) throw new LedgerError('heartbeat', 'table unreachable');
    this.heartbeats.push(heartbeat);
  }
  async readHeartbeats() {
    return [];
  }
}

async function run(
  event: unknown,
  fake: FakeCm,
  extra: { scope?: DeploymentScope; sweepSync?: boolean; ledger?: Ledger; deadline?: number } = {},
) {
  const audit: OutcomeRecord[] = [];
  const notes: OutcomeNotification[] = [];
  const progress: { message: string; fields: Readonly<Record<string, unknown>> }[] = [];
  const result = await remediate(event, {
    cckm: fake,
    policy: policyOf(),
    audit: (r) => audit.push(r),
    progress: (message, fields) => progress.push({ message, fields }),
    notify: async (n) => {
      notes.push(n as OutcomeNotification);
      return true;
    },
    now: () => 1_000_000,
    deadline: extra.deadline ?? 1_000_000 + 60_000,
    ...extra,
  });
  return { result, audit, notes, progress };
}

/** The documented ScheduleKeyDeletion (111122223333 / us-west-2). */
const scheduleEvent = () => fixture('schedule-single-region');

const heartbeat = (rule = 'cckm-deletion-guard-heartbeat', account = DEV, region = 'eu-west-1') => ({
  version: '0',
  id: 'hb-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account,
  time: '2026-05-01T10:00:00Z',
  region,
  resources: [`arn:aws:events:${region}:${account}:rule/${rule}`],
  detail: {},
});

describe('scope rules', () => {
  it('is everything by default; a list admits only its entries; an unknown value is outside a list', () => {
    expect(inScope(EVERYWHERE, undefined, undefined)).toBe(true);
    const s = scope([PROD], ['us-west-2', 'eu-west-1']);
    expect(inScope(s, PROD, 'us-west-2')).toBe(true);
    expect(inScope(s, DEV, 'us-west-2')).toBe(false);
    expect(inScope(s, PROD, 'us-east-1')).toBe(false);
    expect(inScope(s, undefined, 'us-west-2')).toBe(false);
    expect(outOfScopeReason(s, DEV, 'us-west-2')).toBe(
      "account 444455556666 is outside this deployment's scope (SCOPE_ACCOUNTS)",
    );
    expect(outOfScopeReason(s, PROD, 'us-east-1')).toBe(
      "Region us-east-1 is outside this deployment's scope (SCOPE_REGIONS)",
    );
  });

  it('parses SCOPE_ACCOUNTS, SCOPE_REGIONS and SWEEP_SYNC, naming a bad variable', () => {
    expect(parseReachConfig({})).toEqual({ scope: { accounts: '*', regions: '*' }, sweepSync: false });
    expect(
      parseReachConfig({ SCOPE_ACCOUNTS: ` ${PROD},${DEV},${PROD}`, SCOPE_REGIONS: '*', SWEEP_SYNC: 'TRUE' }),
    ).toEqual({ scope: { accounts: [PROD, DEV], regions: '*' }, sweepSync: true });
    const bad = (env: Record<string, string>) => {
      try {
        parseReachConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ SCOPE_ACCOUNTS: '12345' })).toContain('SCOPE_ACCOUNTS has an entry that is not a 12-digit');
    expect(bad({ SCOPE_REGIONS: 'eu-west-1,*' })).toContain('SCOPE_REGIONS is either * or a list');
    expect(bad({ SCOPE_REGIONS: 'Europe' })).toContain(
      'SCOPE_REGIONS has an entry that is not a Region name',
    );
    expect(bad({ SWEEP_SYNC: 'yes' })).toContain('SWEEP_SYNC must be true or false');
  });

  it('maps ForbiddenError to 403 Forbidden with its message', () => {
    const r = errorResponse(new ForbiddenError('outside'));
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ error: 'Forbidden', message: 'outside' });
  });
});

describe('API scope (cancelKey)', () => {
  const arn = (account: string, region: string) => `arn:aws:kms:${region}:${account}:key/${KEY_ID}`;

  it('refuses an ARN outside scope before any call', async () => {
    const cckm = new FakeCm([key({ id: ID, account: DEV })]);
    const command = {
      by: 'aws-key' as const,
      ref: { keyId: KEY_ID, region: 'us-west-2', account: DEV, arn: arn(DEV, 'us-west-2') },
      enable: false,
    };
    await expect(cancelKey(cckm, command, {}, scope([PROD], '*'))).rejects.toThrow(ForbiddenError);
    expect(cckm.calls).toEqual([]);
  });

  it('refuses a KeyId in a Region outside scope before any call', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    const command = { by: 'aws-key' as const, ref: { keyId: KEY_ID, region: 'us-west-2' }, enable: false };
    await expect(cancelKey(cckm, command, {}, scope('*', ['eu-west-1']))).rejects.toThrow(
      /Region us-west-2 is outside/,
    );
    expect(cckm.calls).toEqual([]);
  });

  it('refuses a KeyId whose record is in an account outside scope after the read, before the cancel', async () => {
    const cckm = new FakeCm([key({ id: ID, account: DEV })]);
    const command = { by: 'aws-key' as const, ref: { keyId: KEY_ID, region: 'us-west-2' }, enable: true };
    await expect(cancelKey(cckm, command, {}, scope([PROD], '*'))).rejects.toThrow(/account 444455556666/);
    expect(cckm.methods()).toEqual(['findAwsKey']);
  });

  it('refuses a CCKM id outside scope after getKey, never cancelling', async () => {
    const cckm = new FakeCm([key({ id: ID, region: 'us-west-2' })]);
    await expect(
      cancelKey(cckm, { by: 'cckm-id', id: ID, enable: false }, {}, scope('*', ['eu-west-1'])),
    ).rejects.toThrow(ForbiddenError);
    expect(cckm.methods()).toEqual(['getKey']);
    expect(cckm.stateChangingCalls()).toEqual([]);
  });

  it('cancels a key in scope', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    const r = await cancelKey(
      cckm,
      { by: 'cckm-id', id: ID, enable: false },
      {},
      scope([PROD], ['us-west-2']),
    );
    expect(r.outcome).toBe('cancelled');
  });
});

describe('remediation scope', () => {
  it('an event for a key in an account outside scope is out-of-scope: no call, no notification', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    const { result, audit, notes } = await run(scheduleEvent(), fake, { scope: scope([DEV], '*') });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['out-of-scope']);
    expect(result.summary).toEqual({ 'out-of-scope': 1 });
    expect(audit.map((a) => a.outcome)).toEqual(['out-of-scope']);
    expect(result.outcomes[0]?.reason).toContain('account 111122223333');
    expect(fake.calls).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('an event in a Region outside scope is out-of-scope with no call', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    const { result } = await run(scheduleEvent(), fake, { scope: scope('*', ['eu-west-1']) });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['out-of-scope']);
    expect(fake.calls).toEqual([]);
  });

  it('a denied attempt outside scope is out-of-scope and not notified', async () => {
    const fake = new FakeCm();
    const { result, notes } = await run(fixture('schedule-denied'), fake, { scope: scope([DEV], '*') });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['out-of-scope']);
    expect(result.outcomes[0]?.reason).toMatch(
      /outside this deployment's scope .*ScheduleKeyDeletion failed/,
    );
    expect(notes).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('an event in scope is decided as before', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    const { result } = await run(scheduleEvent(), fake, { scope: scope([PROD], ['us-west-2']) });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['cancelled']);
  });

  it('a sweep lists only the Regions in scope and decides only accounts in scope, counting the rest', async () => {
    const fake = new FakeCm([
      key({ id: ID, region: 'eu-west-1', account: PROD }),
      key({ keyId: 'aaaaaaaa-0000-4000-8000-000000000000', region: 'eu-west-1', account: DEV }),
      key({ keyId: 'bbbbbbbb-0000-4000-8000-000000000000', region: 'us-west-2', account: PROD }),
    ]);
    const { result, progress, notes } = await run(fixture('scheduled-sweep'), fake, {
      scope: scope([PROD], ['eu-west-1']),
    });
    expect(result.outcomes.map((o) => [o.key.cckmId, o.outcome])).toEqual([[ID, 'cancelled']]);
    expect(fake.calls.find((c) => c.method === 'listPendingDeletion')?.regions).toEqual(['eu-west-1']);
    expect(fake.stateChangingCalls().map((c) => c.id)).toEqual([ID]);
    expect(progress.find((p) => p.message === 'sweep started')?.fields.skippedOutOfScope).toBe(1);
    // A sweep tells a person once, in a digest naming only the key in scope.
    const digests = notes as unknown as { kind: string; headline: string; message: string }[];
    expect(digests.map((n) => [n.kind, n.headline])).toEqual([['digest', 'cancelled']]);
    expect(digests[0]?.message).toContain(ID);
    expect(digests[0]?.message).not.toContain('aaaaaaaa-0000-4000-8000-000000000000');
  });
});

describe('SWEEP_SYNC', () => {
  it('a sweep ends by starting one synchronization job for the Regions in scope', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    const { result } = await run(fixture('scheduled-sweep'), fake, {
      sweepSync: true,
      scope: scope('*', ['us-west-2', 'eu-west-1']),
    });
    expect(fake.methods()).toEqual(['listPendingDeletion', 'cancelDeletion', 'startSynchronization']);
    expect(fake.calls.at(-1)?.regions).toEqual(['us-west-2', 'eu-west-1']);
    expect(result.note).toContain('CCKM synchronization job started for Region(s) us-west-2, eu-west-1');
  });

  it('asks for every Region when the scope has no Region list, and reports a job already running', async () => {
    const fake = new FakeCm();
    fake.syncRunning = true;
    const { result } = await run(fixture('scheduled-sweep'), fake, { sweepSync: true });
    expect(fake.calls.at(-1)).toMatchObject({ method: 'startSynchronization' });
    expect(fake.calls.at(-1)?.regions).toBeUndefined();
    expect(result.note).toContain('already running');
  });

  it('a failure to start is logged and noted, and the keys stay decided', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    fake.failures.set('startSynchronization', { error: new UpstreamError('CM said 500') });
    const { result, progress } = await run(fixture('scheduled-sweep'), fake, { sweepSync: true });
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(result.note).toMatch(/starting a CCKM synchronization job failed: UpstreamError: CM said 500/);
    expect(progress.map((p) => p.message)).toContain('synchronization not started');
  });

  it('starts no job once the time budget is spent, logs why and says so in the note', async () => {
    const fake = new FakeCm();
    const { result, progress } = await run(fixture('scheduled-sweep'), fake, {
      sweepSync: true,
      deadline: 1_000_000,
    });
    expect(fake.methods()).not.toContain('startSynchronization');
    expect(result.note).toContain(
      'no CCKM synchronization job started for every Region: the time budget was spent',
    );
    expect(progress.find((p) => p.message === 'synchronization not started')?.fields).toEqual({
      eventId: expect.any(String),
      reason: 'time budget spent',
    });
  });

  it('is off by default and never runs on a CloudTrail event', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    await run(fixture('scheduled-sweep'), fake);
    await run(scheduleEvent(), fake, { sweepSync: true });
    expect(fake.methods()).not.toContain('startSynchronization');
  });
});

describe('spoke heartbeats', () => {
  it('classifies a Scheduled Event naming the heartbeat rule (with a suffix too) as a heartbeat', () => {
    expect(classifyEvent(heartbeat())).toMatchObject({
      kind: 'heartbeat',
      account: DEV,
      region: 'eu-west-1',
      time: '2026-05-01T10:00:00Z',
    });
    expect(classifyEvent(heartbeat('cckm-deletion-guard-heartbeat-eu'))).toMatchObject({ kind: 'heartbeat' });
    expect(classifyEvent(heartbeat('cckm-deletion-guard-sweep'))).toMatchObject({ kind: 'sweep' });
    expect(classifyEvent({ ...heartbeat(), time: 'yesterday' })).toMatchObject({ kind: 'ignored' });
  });

  it('records the heartbeat of the event account, Region and time; never a sweep, never a CM call', async () => {
    const fake = new FakeCm([key({ id: ID })]);
    const ledger = new FakeLedger();
    const { result } = await run(heartbeat(), fake, { ledger });
    expect(result).toEqual({ eventId: 'hb-1', kind: 'heartbeat', outcomes: [], summary: {} });
    expect(ledger.heartbeats).toEqual([{ account: DEV, region: 'eu-west-1', time: '2026-05-01T10:00:00Z' }]);
    expect(fake.calls).toEqual([]);
  });

  it('a failing ledger is logged and noted, never thrown', async () => {
    const ledger = new FakeLedger();
    ledger.fail = true;
    const { result, progress } = await run(heartbeat(), new FakeCm(), { ledger });
    expect(result.kind).toBe('heartbeat');
    expect(result.note).toContain('recording the heartbeat failed: LedgerError: table unreachable');
    expect(progress.map((p) => p.message)).toContain('heartbeat not recorded');
  });

  it('logs one heartbeat line saying whether it was recorded, and a note only when it was not', async () => {
    const fields = { eventId: 'hb-1', account: DEV, region: 'eu-west-1', time: '2026-05-01T10:00:00Z' };
    const lines = (done: { progress: { message: string }[] }) =>
      done.progress.filter((p) => p.message.startsWith('heartbeat'));
    const recorded = await run(heartbeat(), new FakeCm(), { ledger: new FakeLedger() });
    expect(recorded.result.note).toBeUndefined();
    expect(lines(recorded)).toEqual([{ message: 'heartbeat', fields: { ...fields, recorded: true } }]);
    const none = await run(heartbeat(), new FakeCm());
    expect(none.result.note).toBe('heartbeat not recorded: no ledger (LEDGER_TABLE) configured');
    expect(lines(none)).toEqual([{ message: 'heartbeat', fields: { ...fields, recorded: false } }]);
    const failing = new FakeLedger();
    failing.fail = true;
    const failed = await run(heartbeat(), new FakeCm(), { ledger: failing });
    expect(lines(failed).map((p) => p.message)).toEqual(['heartbeat not recorded']);
  });

  it('without a ledger, or from outside scope, records nothing and says why', async () => {
    const none = await run(heartbeat(), new FakeCm());
    expect(none.result.note).toContain('no ledger');
    const ledger = new FakeLedger();
    const outside = await run(heartbeat(), new FakeCm(), { ledger, scope: scope([PROD], '*') });
    expect(outside.result.note).toContain('outside');
    expect(ledger.heartbeats).toEqual([]);
  });
});
