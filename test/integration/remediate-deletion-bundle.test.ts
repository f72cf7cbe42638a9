import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/aws/dynamodb.ts';
import type { AwsStandIns } from '../../local/aws/index.ts';
import { FunctionError, type FunctionHost } from '../../local/function-host.ts';
import { ACCOUNTS, keyArn, type Simulator, stableUuid } from '../../local/simulator/index.ts';
import {
  buildTestBundle,
  guardEnv,
  hostFunction,
  ledgerEnv,
  outcomesByKey,
  putRefreshSecret,
  sampleEvent,
  startBackends,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * The real remediate-deletion bundle (built as deployed) against the CipherTrust Manager simulator
 * over HTTPS and the Secrets Manager / SNS stand-ins, fed the sample events of local/events/.
 */

interface Outcome {
  outcome: string;
  reason: string;
  key: { cckmId?: string; arn?: string; region?: string };
}
interface Result {
  kind: string;
  outcomes: Outcome[];
  summary: Record<string, number>;
}

const JWT_HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';

let sim: Simulator;
let aws: AwsStandIns;
/** One dynalite per container: each test starts with an empty ledger. */
const ledgers: LocalDynamoDb[] = [];
let bundle: string;
let topicArn: string;
const output: string[] = [];
const hosts: FunctionHost[] = [];

/** The sample ScheduleKeyDeletion event, pointed at another seeded key. */
const scheduleEventFor = (arn: string): Record<string, unknown> => {
  const event = sampleEvent('schedule-key-deletion');
  const [, , , region, , resource] = arn.split(':');
  const detail = event.detail as Record<string, unknown>;
  event.region = region;
  detail.awsRegion = region;
  detail.requestParameters = { pendingWindowInDays: 7, keyId: resource!.slice(4) };
  detail.responseElements = {
    keyId: arn,
    keyState: 'PendingDeletion',
    deletionDate: 'Dec 5, 2026, 4:00:00 PM',
  };
  detail.resources = [{ accountId: ACCOUNTS.prod, type: 'AWS::KMS::Key', ARN: arn }];
  return event;
};

const container = async (env: Record<string, string> = {}): Promise<FunctionHost> => {
  const dynamo = await startLocalDynamoDb();
  ledgers.push(dynamo);
  return hostFunction(
    hosts,
    bundle,
    'remediate-deletion',
    {
      ...guardEnv(sim, aws),
      ...ledgerEnv(dynamo),
      NOTIFY_TOPIC_ARN: topicArn,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
      ...env,
    },
    (chunk) => output.push(chunk),
  );
};

// No skip when the entry is missing: building the bundle then fails the suite, as it should.
describe('remediate-deletion bundle against the simulator', () => {
  beforeAll(async () => {
    ({ sim, aws } = await startBackends());
    topicArn = aws.sns.createTopic('deletion-guard');
    bundle = await buildTestBundle('remediate-deletion');
  }, 60_000);

  afterAll(() => stopAll(hosts, sim, aws, ...ledgers));

  beforeEach(() => {
    sim.reset();
    aws.reset();
    putRefreshSecret(aws, sim);
  });

  it('cancels the key of a ScheduleKeyDeletion event and notifies once', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>(sampleEvent('schedule-key-deletion'));
    const ledger = sim.keys.byName('ledger');
    expect(result.kind).toBe('schedule-key-deletion');
    expect(result.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'cancelled',
        key: expect.objectContaining({ cckmId: ledger.id }),
      }),
    ]);
    expect(sim.keys.aws(ledger.id)?.KeyState).toBe('Disabled');
    expect(sim.requestsTo(CANCEL).map((e) => e.status)).toEqual([200]);
    expect(aws.sns.messages).toHaveLength(1);
    const [message] = aws.sns.messages;
    expect(message!.subject!.length).toBeLessThanOrEqual(100);
    expect(message!.subject).toContain('cancelled');
    expect(JSON.parse(message!.message)).toMatchObject({ outcome: 'cancelled' });
    expect(message!.messageAttributes.outcome).toEqual({ DataType: 'String', StringValue: 'cancelled' });
  });

  it('is harmless when the same event comes again: not-pending', async () => {
    const fn = await container();
    await fn.invoke<Result>(sampleEvent('schedule-key-deletion'));
    const again = await fn.invoke<Result>(sampleEvent('schedule-key-deletion'));
    expect(again.outcomes.map((o) => o.outcome)).toEqual(['not-pending']);
  });

  it('cancels a multi-Region primary in PendingReplicaDeletion (no deletionDate in the event)', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>(sampleEvent('schedule-multi-region-primary'));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['cancelled']);
    expect(sim.keys.aws(sim.keys.byName('global-primary').id)?.KeyState).toBe('Disabled');
    expect(sim.keys.aws(sim.keys.byName('global-replica-eu').id)?.KeyState).toBe('PendingDeletion');
  });

  it('notifies a denied attempt without calling CipherTrust Manager', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>(sampleEvent('denied-attempt'));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['denied-attempt']);
    expect(sim.requests).toHaveLength(0);
    expect(aws.sns.messages.map((m) => JSON.parse(m.message).outcome)).toEqual(['denied-attempt']);
  });

  it('sweeps every pending key CCKM shows, over repeated keystate filters, and spares the exempt one', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>(sampleEvent('sweep'));
    expect(result.kind).toBe('sweep');
    expect(outcomesByKey(sim, result)).toEqual({
      'alias/payments@us-east-1': 'cancelled',
      'alias/ledger@us-west-2': 'cancelled',
      'alias/global@us-west-2': 'cancelled',
      'alias/global@eu-west-1': 'cancelled',
      'alias/sandbox@eu-west-1': 'exempt',
    });
    const listing = sim.requestsTo('/api/v1/cckm/aws/keys', 'GET');
    expect(listing.length).toBeGreaterThanOrEqual(1);
    expect(new URLSearchParams(listing[0]!.query).getAll('keystate').sort()).toEqual([
      'PendingDeletion',
      'PendingReplicaDeletion',
    ]);
    expect(sim.keys.aws(sim.keys.byName('sandbox').id)?.KeyState).toBe('PendingDeletion');
    // `orders` was scheduled directly in AWS and CCKM's copy is stale: the sweep cannot see it.
    expect(sim.keys.aws(sim.keys.byName('orders').id)?.KeyState).toBe('PendingDeletion');
  });

  it('sweeps on an alarm entering ALARM', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>(sampleEvent('alarm'));
    expect(result.summary).toMatchObject({ cancelled: 4, exempt: 1 });
  });

  it('re-enables a key whose CCKM record showed Enabled before the cancel (stale copy)', async () => {
    const fn = await container();
    const orders = sim.keys.byName('orders');
    const result = await fn.invoke<Result>(scheduleEventFor(orders.aws_param.Arn));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['cancelled-and-enabled']);
    expect(sim.keys.aws(orders.id)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
  });

  it('reports a key CCKM does not manage as not-managed', async () => {
    const fn = await container();
    const arn = keyArn('us-east-1', ACCOUNTS.prod, stableUuid('aws-key:unmanaged'));
    const result = await fn.invoke<Result>(scheduleEventFor(arn));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['not-managed']);
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
  });

  it('lets an allowed principal delete', async () => {
    const fn = await container({ ALLOWED_PRINCIPALS: 'arn:aws:iam::111122223333:role/Dev' });
    const result = await fn.invoke<Result>(sampleEvent('schedule-key-deletion'));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['allowed']);
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('PendingDeletion');
  });

  it('changes nothing in detect mode', async () => {
    const fn = await container({ MODE: 'detect' });
    const result = await fn.invoke<Result>(sampleEvent('sweep'));
    expect(result.summary).toMatchObject({ detected: 4, exempt: 1 });
    expect(sim.requests.filter((e) => e.method === 'POST' && e.path !== '/api/v1/auth/tokens')).toEqual([]);
  });

  it('decides every other key, then throws so EventBridge retries, when one cancel keeps failing', async () => {
    const fn = await container();
    const payments = sim.keys.byName('payments');
    sim.faults.add({
      method: 'POST',
      path: `/api/v1/cckm/aws/keys/${payments.id}/cancel-deletion`,
      status: 503,
      times: -1,
    });
    const err = await fn.invoke<Result>(sampleEvent('sweep')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunctionError);
    expect(sim.keys.aws(payments.id)?.KeyState).toBe('PendingDeletion');
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('Disabled');
    expect(sim.keys.aws(sim.keys.byName('global-primary').id)?.KeyState).toBe('Disabled');
    // One digest for the sweep, led by the key that failed.
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]!.subject).toMatch(/^CCKM Deletion Guard sweep: 1 failed, \d+ cancelled/);
    expect(JSON.parse(aws.sns.messages[0]!.message).items[0]).toMatchObject({ outcome: 'failed' });
  });

  it('still cancels when SNS is failing', async () => {
    const fn = await container();
    aws.faults.failNext({ service: 'sns', status: 500, times: 20 });
    const result = await fn.invoke<Result>(sampleEvent('schedule-key-deletion'));
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['cancelled']);
    expect(aws.requests.filter((r) => r.service === 'sns').every((r) => r.status === 500)).toBe(true);
    aws.faults.clear();
  });

  it('ignores an event it does not handle, without an error or a call', async () => {
    const fn = await container();
    const result = await fn.invoke<Result>({
      version: '0',
      id: 'e9ce3425-7d22-412a-a699-e7a5fc3fbc9a',
      'detail-type': 'KMS CMK Deletion',
      source: 'aws.kms',
      account: ACCOUNTS.prod,
      time: '2022-08-10T16:37:50Z',
      region: 'us-west-2',
      resources: [],
      detail: { 'key-id': '1234abcd-12ab-34cd-56ef-1234567890ab' },
    });
    expect(result).toMatchObject({ kind: 'ignored', outcomes: [] });
    expect(sim.requests).toHaveLength(0);
  });

  it('never wrote a password, refresh token or JWT to any log line', () => {
    const text = output.join('');
    expect(text).toContain('remediation outcome');
    expect(text).not.toContain(sim.credentials.refreshToken);
    expect(text).not.toContain(sim.credentials.password);
    expect(text).not.toContain(JWT_HEADER_B64);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9_-]{10,}/);
  });
});
