import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AwsStandIns } from '../../local/aws/index.ts';
import type { FunctionHost } from '../../local/function-host.ts';
import { ACCOUNTS, type Simulator } from '../../local/simulator/index.ts';
import {
  buildTestBundle,
  callApi,
  guardEnv,
  hostFunction,
  outcomesByKey,
  putRefreshSecret,
  sampleEvent,
  startBackends,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * Hub-and-spoke behaviour of the real bundles (built as deployed) against the CipherTrust Manager
 * simulator over HTTPS (contract sections 3 and 4): events forwarded from other accounts and Regions,
 * scope (API 403, out-of-scope events, scoped sweeps) with zero CipherTrust Manager calls for keys
 * outside it, spoke heartbeats, and SWEEP_SYNC making the second sweep see a key scheduled in AWS.
 */

interface Outcome {
  outcome: string;
  reason: string;
  key: { cckmId?: string; arn?: string; account?: string; region?: string };
}
interface Result {
  kind: string;
  note?: string;
  outcomes: Outcome[];
  summary: Record<string, number>;
}

const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';

let sim: Simulator;
let aws: AwsStandIns;
let remediationBundle: string;
let apiBundle: string;
let topicArn: string;
const hosts: FunctionHost[] = [];

/** The forwarded-schedule sample (444455556666 / eu-west-1), pointed at another seeded key's account and Region. */
const forwardedFor = (arn: string): Record<string, unknown> => {
  const event = sampleEvent('forwarded-schedule');
  const [, , , region, account, resource] = arn.split(':');
  const detail = event.detail as Record<string, unknown>;
  event.account = account;
  event.region = region;
  detail.awsRegion = region;
  detail.recipientAccountId = account;
  detail.eventID = `${arn.slice(-12)}-0000-4000-8000-000000000000`;
  detail.requestParameters = { pendingWindowInDays: 7, keyId: resource!.slice(4) };
  detail.responseElements = {
    keyId: arn,
    keyState: 'PendingDeletion',
    deletionDate: 'Dec 5, 2026, 4:00:00 PM',
  };
  detail.resources = [{ accountId: account, type: 'AWS::KMS::Key', ARN: arn }];
  return event;
};

const host = (bundle: string, name: 'remediate-deletion' | 'cancel-deletion', env: Record<string, string>) =>
  hostFunction(hosts, bundle, name, {
    ...guardEnv(sim, aws),
    NOTIFY_TOPIC_ARN: topicArn,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...env,
  });
const guard = (env: Record<string, string> = {}) => host(remediationBundle, 'remediate-deletion', env);
const api = (env: Record<string, string> = {}) => host(apiBundle, 'cancel-deletion', env);

const seeded = (name: string) => sim.keys.byName(name);
const awsState = (name: string) => sim.keys.aws(seeded(name).id)?.KeyState;
/** Every CipherTrust Manager request that names this key's CCKM id or AWS KeyId (path or query). */
const requestsFor = (name: string) => {
  const k = seeded(name);
  return sim.requests.filter(
    (r) => `${r.path}?${r.query}`.includes(k.id) || `${r.path}?${r.query}`.includes(k.aws_param.KeyID),
  );
};
describe('hub and spokes: forwarded events, scope and SWEEP_SYNC (real bundles, simulator)', () => {
  beforeAll(async () => {
    ({ sim, aws } = await startBackends());
    topicArn = aws.sns.createTopic('deletion-guard');
    remediationBundle = await buildTestBundle('remediate-deletion');
    apiBundle = await buildTestBundle('cancel-deletion');
  }, 120_000);

  afterAll(() => stopAll(hosts, sim, aws));

  beforeEach(() => {
    sim.reset();
    aws.reset();
    putRefreshSecret(aws, sim);
  });

  it('cancels the right key for forwarded events from three accounts and Regions', async () => {
    const fn = await guard();
    const cases = [
      {
        name: 'telemetry',
        account: ACCOUNTS.dev,
        region: 'eu-west-1',
        event: sampleEvent('forwarded-schedule'),
      },
      { name: 'vault-ap', account: ACCOUNTS.shared, region: 'ap-south-1' },
      {
        name: 'ledger',
        account: ACCOUNTS.prod,
        region: 'us-west-2',
        event: sampleEvent('schedule-key-deletion'),
      },
    ];
    for (const c of cases) {
      const k = seeded(c.name);
      const event = c.event ?? forwardedFor(k.aws_param.Arn);
      expect(event).toMatchObject({ account: c.account, region: c.region });
      const before = sim.requests.length;
      const result = await fn.invoke<Result>(event);
      expect(result.outcomes).toEqual([
        expect.objectContaining({
          outcome: expect.stringMatching(/^cancelled/),
          key: expect.objectContaining({ cckmId: k.id, account: c.account, region: c.region }),
        }),
      ]);
      expect(awsState(c.name)).not.toMatch(/Pending/);
      // Looked up with the event's own Region, and only this key cancelled.
      const lookups = sim.requests.slice(before).filter((r) => r.path === '/api/v1/cckm/aws/keys');
      expect(lookups.map((r) => new URLSearchParams(r.query).get('region'))).toEqual([c.region]);
      expect(
        sim.requests
          .slice(before)
          .filter((r) => r.path.endsWith('/cancel-deletion'))
          .map((r) => r.path),
      ).toEqual([`/api/v1/cckm/aws/keys/${k.id}/cancel-deletion`]);
    }
    // The stale-copy keys were Enabled before their deletion was scheduled: enabled again.
    expect(awsState('telemetry')).toBe('Enabled');
    expect(awsState('vault-ap')).toBe('Enabled');
  });

  it('API: a key outside scope gets 403 Forbidden and no state-changing call', async () => {
    const fn = await api({ SCOPE_ACCOUNTS: ACCOUNTS.prod, SCOPE_REGIONS: 'us-east-1,us-west-2' });
    const telemetry = seeded('telemetry');

    // ARN outside scope: refused before any call.
    const byArn = await callApi(fn, 'POST', '/aws-keys/cancel-deletion', { arn: telemetry.aws_param.Arn });
    expect(byArn.status).toBe(403);
    expect(byArn.body).toEqual({ error: 'Forbidden', message: expect.stringContaining('outside') });
    // KeyId in a Region outside scope: refused before any call.
    const byKeyId = await callApi(fn, 'POST', '/aws-keys/cancel-deletion', {
      keyId: telemetry.aws_param.KeyID,
      region: 'eu-west-1',
    });
    expect(byKeyId.status).toBe(403);
    expect(sim.requests).toHaveLength(0);

    // CCKM id: the key is read (where it lives is in the record), then refused; never cancelled.
    const byId = await callApi(fn, 'POST', `/keys/${telemetry.id}/cancel-deletion`, { enable: true });
    expect(byId.status).toBe(403);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v1/cckm'))).toEqual([]);
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
    expect(awsState('telemetry')).toBe('PendingDeletion');

    // A key in scope is still served.
    const inScope = await callApi(fn, 'POST', `/keys/${seeded('payments').id}/cancel-deletion`);
    expect(inScope.status).toBe(200);
    expect(inScope.body).toMatchObject({ outcome: 'cancelled' });
  });

  it('remediation: events outside scope (a denied attempt included) are out-of-scope with zero CM calls and no notification', async () => {
    const fn = await guard({ SCOPE_ACCOUNTS: ACCOUNTS.prod });
    const forwarded = await fn.invoke<Result>(sampleEvent('forwarded-schedule'));
    expect(forwarded.outcomes.map((o) => o.outcome)).toEqual(['out-of-scope']);
    expect(forwarded.summary).toEqual({ 'out-of-scope': 1 });
    // A denied attempt forwarded from 444455556666 / eu-west-1 against alias/telemetry.
    const denied = sampleEvent('denied-attempt');
    const telemetryArn = seeded('telemetry').aws_param.Arn;
    Object.assign(denied, { account: ACCOUNTS.dev, region: 'eu-west-1' });
    Object.assign(denied.detail as Record<string, unknown>, {
      recipientAccountId: ACCOUNTS.dev,
      awsRegion: 'eu-west-1',
      requestParameters: { keyId: telemetryArn, pendingWindowInDays: 7 },
      resources: [{ accountId: ACCOUNTS.dev, type: 'AWS::KMS::Key', ARN: telemetryArn }],
    });
    const deniedResult = await fn.invoke<Result>(denied);
    expect(deniedResult.outcomes.map((o) => o.outcome)).toEqual(['out-of-scope']);
    expect(sim.requests).toHaveLength(0);
    expect(aws.sns.messages).toHaveLength(0);
    expect(awsState('telemetry')).toBe('PendingDeletion');
  });

  it('a sweep lists only the Regions in scope and decides only accounts in scope', async () => {
    const fn = await guard({ SCOPE_ACCOUNTS: ACCOUNTS.prod, SCOPE_REGIONS: 'us-east-1,us-west-2' });
    const result = await fn.invoke<Result>(sampleEvent('sweep'));
    expect(outcomesByKey(sim, result)).toEqual({
      'alias/payments@us-east-1': 'cancelled',
      'alias/ledger@us-west-2': 'cancelled',
      'alias/global@us-west-2': 'cancelled',
    });
    const listing = sim.requestsTo('/api/v1/cckm/aws/keys', 'GET');
    expect(listing.length).toBeGreaterThanOrEqual(1);
    for (const l of listing) {
      expect(new URLSearchParams(l.query).getAll('region')).toEqual(['us-east-1', 'us-west-2']);
    }
    // eu-west-1 keys (the multi-Region replica, the exempt sandbox) were never touched.
    expect(requestsFor('sandbox')).toEqual([]);
    expect(awsState('global-replica-eu')).toBe('PendingDeletion');
    expect(sim.counters.syncJobsStarted).toBe(0);
  });

  it('records nothing and calls nothing for a spoke heartbeat without a ledger; never a sweep', async () => {
    const fn = await guard();
    const result = await fn.invoke<Result>(sampleEvent('heartbeat'));
    expect(result).toMatchObject({ kind: 'heartbeat', outcomes: [], summary: {} });
    expect(result.note).toContain('no ledger');
    expect(sim.requests).toHaveLength(0);
  });

  it('SWEEP_SYNC: a key scheduled directly in AWS (analytics) is cancelled by the second sweep', async () => {
    const fn = await guard({ SWEEP_SYNC: 'true' });
    sim.keys.scheduleDeletionInAws(seeded('analytics').id, 7);

    const first = await fn.invoke<Result>(sampleEvent('sweep'));
    // CCKM's copy still says Enabled: the first sweep cannot see analytics, and starts a job.
    expect(Object.keys(outcomesByKey(sim, first))).not.toContain('alias/analytics@us-east-1');
    expect(awsState('analytics')).toBe('PendingDeletion');
    expect(first.note).toContain('CCKM synchronization job started for every Region');
    expect(sim.counters.syncJobsStarted).toBe(1);
    expect(sim.syncJobs.list()[0]).toMatchObject({ synchronize_all: true });

    // Never waited for by the guard; the test waits for the simulator's job to finish.
    await vi.waitFor(() => expect(sim.syncJobs.list()[0]?.status).toBe('completed'), {
      timeout: 10_000,
      interval: 50,
    });

    const second = await fn.invoke<Result>(sampleEvent('sweep'));
    expect(outcomesByKey(sim, second)['alias/analytics@us-east-1']).toMatch(/^cancelled/);
    expect(awsState('analytics')).not.toMatch(/Pending/);
  });

  it('SWEEP_SYNC never starts two jobs at once, and asks only for the Regions in scope', async () => {
    sim.syncJobs.delayMs = 600_000;
    const fn = await guard({ SWEEP_SYNC: 'true', SCOPE_REGIONS: 'us-east-1,eu-west-1' });
    const first = await fn.invoke<Result>(sampleEvent('sweep'));
    const second = await fn.invoke<Result>(sampleEvent('sweep'));
    expect(first.note).toContain('started for Region(s) us-east-1, eu-west-1');
    expect(second.note).toContain('already running');
    expect(sim.counters.syncJobsStarted).toBe(1);
    expect(sim.syncJobs.list()).toEqual([expect.objectContaining({ regions: ['us-east-1', 'eu-west-1'] })]);
    expect(sim.requestsTo('/api/v1/cckm/aws/synchronization-jobs', 'POST')).toHaveLength(1);
  });

  it('two guards with disjoint scopes never act on each other’s keys', async () => {
    const prodGuard = await guard({ SCOPE_ACCOUNTS: ACCOUNTS.prod });
    const spokeGuard = await guard({
      SCOPE_ACCOUNTS: `${ACCOUNTS.dev},${ACCOUNTS.shared}`,
      SWEEP_SYNC: 'true',
    });
    sim.keys.scheduleDeletionInAws(seeded('analytics').id, 7);
    const accountOf = (id: string) => sim.keys.list().find((k) => k.id === id)?.aws_param.AWSAccountId;
    const run = async (fn: FunctionHost, event: Record<string, unknown>) => {
      const before = sim.requests.length;
      const result = await fn.invoke<Result>(event);
      const cancels = sim.requests
        .slice(before)
        .filter((r) => r.path.endsWith('/cancel-deletion'))
        .map((r) => r.path.split('/')[6]!);
      return { result, cancels, accounts: new Set(cancels.map(accountOf)) };
    };

    // Each guard's view of the other's forwarded event: out-of-scope, nothing cancelled.
    const a1 = await run(prodGuard, sampleEvent('forwarded-schedule'));
    const b1 = await run(spokeGuard, sampleEvent('schedule-key-deletion'));
    expect([a1, b1].map((r) => r.result.outcomes.map((o) => o.outcome))).toEqual([
      ['out-of-scope'],
      ['out-of-scope'],
    ]);
    expect([...a1.cancels, ...b1.cancels]).toEqual([]);

    // The spoke guard's sweep starts a synchronization job; once done, CCKM shows every key as AWS does.
    await run(spokeGuard, sampleEvent('sweep'));
    expect(sim.syncJobs.completeNow()).toHaveLength(1);

    // Both sweep the same CipherTrust Manager: each cancels only its own accounts' keys.
    const a2 = await run(prodGuard, sampleEvent('sweep'));
    const b2 = await run(spokeGuard, sampleEvent('sweep'));
    expect(a2.accounts).toEqual(new Set([ACCOUNTS.prod]));
    expect(a2.result.outcomes.every((o) => o.key.account === ACCOUNTS.prod)).toBe(true);
    expect(b2.accounts).toEqual(new Set([ACCOUNTS.dev, ACCOUNTS.shared]));
    expect(b2.result.outcomes.every((o) => o.key.account !== ACCOUNTS.prod)).toBe(true);
    expect(outcomesByKey(sim, b2.result)).toMatchObject({
      'alias/telemetry@eu-west-1': expect.stringMatching(/^cancelled/),
      'alias/vault-ap@ap-south-1': expect.stringMatching(/^cancelled/),
      'alias/analytics@us-east-1': expect.stringMatching(/^cancelled/),
      'alias/sandbox@eu-west-1': 'exempt',
    });
  });
});
