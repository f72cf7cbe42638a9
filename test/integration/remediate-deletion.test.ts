import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CckmClient, createCckmClient } from '../../functions/adapters/cckm-client.ts';
import { createRemediationHandler } from '../../functions/remediate-deletion.ts';
import { type PolicyConfig, parseConnectionConfig } from '../../functions/shared/config.ts';
import { GuardLogger } from '../../functions/shared/logger.ts';
import { type AwsStandIns, startAwsStandIns } from '../../local/aws/index.ts';
import {
  defaultSeed,
  generatePendingKeys,
  generateSimulatorTls,
  SEED_KEYS,
  type Simulator,
  startSimulator,
} from '../../local/simulator/index.ts';
import { fixture } from '../helpers/fake-cckm.ts';
import { captureOutput, lambdaContext } from '../helpers/lambda.ts';

/**
 * The remediation handler (real middy stack, real CipherTrust Manager client over HTTPS, real AWS SDK
 * clients) against the CipherTrust Manager simulator and the Secrets Manager / SNS stand-ins.
 */

const SECRET_ID = 'cckm/deletion-guard';
const BULK = 150;

let sim: Simulator;
let aws: AwsStandIns;
let topicArn: string;
let output: ReturnType<typeof captureOutput>;
const clients: CckmClient[] = [];

function context(remainingMs = 120_000): Context {
  return lambdaContext(remainingMs, { functionName: 'remediate-deletion' });
}

function sdkConfig() {
  return {
    region: aws.region,
    endpoint: aws.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

function handler(policy: Partial<PolicyConfig> = {}) {
  const logger = new GuardLogger({ serviceName: 'cckm-deletion-guard' });
  const client = createCckmClient(parseConnectionConfig({ CCKM_URL: sim.url, CCKM_SECRET_ID: SECRET_ID }), {
    secretsClient: new SecretsManagerClient(sdkConfig()),
    logger,
    // Fast retries: "CipherTrust Manager down" should fail in milliseconds, not seconds.
    retryPolicy: { maxAttempts: 2, baseMs: 1, capMs: 5 },
  });
  clients.push(client);
  const sns = new SNSClient(sdkConfig());
  return createRemediationHandler({
    cckm: () => client,
    policy: () => ({
      mode: 'remediate',
      reenable: 'if-previously-enabled',
      allowedPrincipals: [],
      exemptTag: { key: 'deletion-guard:exempt', value: 'true' },
      notifyTopicArn: topicArn,
      ...policy,
    }),
    sns: () => sns,
    logger,
    metrics: { namespace: 'CckmDeletionGuard', enabled: true },
  });
}

/** A CloudTrail ScheduleKeyDeletion event (documented sample) naming one of the simulator's keys. */
function scheduleEventFor(name: string, eventId = `evt-${name}`) {
  const record = sim.keys.byName(name);
  const event = fixture('schedule-single-region');
  const detail = event.detail as Record<string, unknown>;
  const arn = record.aws_param.Arn;
  event.region = record.region;
  event.account = record.aws_param.AWSAccountId;
  event.detail = {
    ...detail,
    eventID: eventId,
    awsRegion: record.region,
    recipientAccountId: record.aws_param.AWSAccountId,
    requestParameters: { keyId: record.aws_param.KeyID, pendingWindowInDays: 7 },
    responseElements: { keyId: arn, keyState: 'PendingDeletion', deletionDate: 'Nov 9, 2026, 11:25:25 PM' },
    resources: [{ accountId: record.aws_param.AWSAccountId, type: 'AWS::KMS::Key', ARN: arn }],
  };
  return event;
}

/** Requests that change a key (cancel, enable, disable, schedule) seen by the simulator. */
function stateChangingRequests() {
  return sim.requestsTo('/api/v1/cckm/aws/keys/*', 'POST');
}

beforeAll(async () => {
  const seed = defaultSeed();
  sim = await startSimulator({
    tls: await generateSimulatorTls(),
    seed: { ...seed, keys: [...SEED_KEYS, ...generatePendingKeys(BULK)] },
  });
  aws = await startAwsStandIns();
  topicArn = aws.sns.createTopic('cckm-deletion-guard');
  aws.secrets.put(SECRET_ID, { refresh_token: sim.credentials.refreshToken, ca_cert: sim.caPem });
});

beforeEach(() => {
  output = captureOutput();
});

afterEach(async () => {
  output.restore();
  // No credential in any log line or message, whatever the test did.
  const published = aws.sns.messages.map((m) => `${m.subject ?? ''}\n${m.message}`);
  for (const text of [output.text(), ...published]) {
    expect(text).not.toContain(sim.credentials.refreshToken);
    expect(text).not.toContain(sim.credentials.password);
    expect(text).not.toMatch(/eyJhbGci/); // a JWT header
    expect(text.toLowerCase()).not.toContain('bearer ');
  }
  await Promise.all(clients.splice(0).map((c) => c.close()));
  sim.reset();
  aws.reset();
});

afterAll(async () => {
  await sim?.close();
  await aws?.close();
});

describe('remediation against the simulator', () => {
  it('cancels the documented sample key, publishes one message, and a duplicate delivery is not-pending', async () => {
    const remediate = handler();
    const first = await remediate(fixture('schedule-single-region'), context());
    expect(first.summary).toEqual({ cancelled: 1 });
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('Disabled');

    const second = await remediate(fixture('schedule-single-region'), context());
    expect(second.summary).toEqual({ 'not-pending': 1 });
    expect(sim.requestsTo('/api/v1/cckm/aws/keys/*/cancel-deletion', 'POST')).toHaveLength(2);
    expect(sim.requestsTo('/api/v1/cckm/aws/keys/*/enable', 'POST')).toHaveLength(0);
    expect(aws.sns.messages.map((m) => m.subject)).toEqual([
      'KMS key deletion cancelled: alias/ledger (111122223333 us-west-2)',
      'KMS key not pending deletion: alias/ledger (111122223333 us-west-2)',
    ]);
    expect(JSON.parse(aws.sns.messages[0]?.message ?? '{}')).toMatchObject({
      outcome: 'cancelled',
      key: { cckmId: sim.keys.byName('ledger').id, aliases: ['alias/ledger'], region: 'us-west-2' },
      actor: 'arn:aws:iam::111122223333:user/Alice',
      pendingWindowInDays: 20,
      deletionDate: '2021-04-12T18:58:30.000Z',
    });
  });

  it('cancels and re-enables a key scheduled directly in AWS while CCKM still shows it Enabled', async () => {
    const orders = sim.keys.byName('orders');
    expect(orders.aws_param.KeyState).toBe('Enabled');
    expect(sim.keys.aws(orders.id)?.KeyState).toBe('PendingDeletion');
    const result = await handler()(scheduleEventFor('orders'), context());
    expect(result.summary).toEqual({ 'cancelled-and-enabled': 1 });
    expect(sim.keys.aws(orders.id)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
    expect(aws.sns.messages[0]?.subject).toBe(
      'KMS key deletion cancelled, key enabled: alias/orders (111122223333 us-east-1)',
    );
  });

  it('reports a key CCKM does not manage as not-managed, without a state-changing request', async () => {
    const event = scheduleEventFor('payments');
    const detail = event.detail as Record<string, unknown>;
    const unknownArn = 'arn:aws:kms:us-east-1:111122223333:key/0b90f8de-1111-4222-8333-444455556666';
    event.detail = { ...detail, responseElements: { keyId: unknownArn }, resources: [] };
    const result = await handler()(event, context());
    expect(result.summary).toEqual({ 'not-managed': 1 });
    expect(stateChangingRequests()).toEqual([]);
  });

  it("lets an allowed principal's deletion stand and only reads from CipherTrust Manager", async () => {
    const result = await handler({ allowedPrincipals: ['arn:aws:iam::111122223333:user/*'] })(
      scheduleEventFor('payments'),
      context(),
    );
    expect(result.summary).toEqual({ allowed: 1 });
    expect(result.outcomes[0]?.reason).toBe(
      'arn:aws:iam::111122223333:user/Alice matches allowed principal arn:aws:iam::111122223333:user/*',
    );
    expect(stateChangingRequests()).toEqual([]);
    expect(sim.keys.aws(sim.keys.byName('payments').id)?.KeyState).toBe('PendingDeletion');
  });

  it('notifies a denied attempt without any request to CipherTrust Manager', async () => {
    const result = await handler()(fixture('schedule-denied'), context());
    expect(result.summary).toEqual({ 'denied-attempt': 1 });
    expect(sim.requests).toEqual([]);
    expect(aws.sns.messages.map((m) => m.subject)).toEqual([
      'KMS key deletion attempt denied: 1234abcd-12ab-34cd-56ef-1234567890ab (111122223333 us-west-2)',
    ]);
  });

  it('sweeps every page of pending keys, keeps the exempt one, and stays quiet about it', async () => {
    const result = await handler()(fixture('scheduled-sweep'), context());
    // payments, ledger, global-primary (PendingReplicaDeletion), global-replica-eu and the bulk keys.
    expect(result.summary).toEqual({ cancelled: BULK + 4, exempt: 1 });
    const listings = sim.requestsTo('/api/v1/cckm/aws/keys', 'GET');
    expect(listings.length).toBeGreaterThanOrEqual(2);
    expect(listings.map((r) => new URLSearchParams(r.query).get('skip'))).toEqual(
      expect.arrayContaining(['0', '100']),
    );
    expect(sim.keys.aws(sim.keys.byName('sandbox').id)?.KeyState).toBe('PendingDeletion');
    expect(sim.keys.aws(sim.keys.byName('global-primary').id)?.KeyState).toBe('Disabled');
    // One digest for the whole sweep, quiet about the exempt key.
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]!.subject).toBe(`CCKM Deletion Guard sweep: ${BULK + 4} cancelled`);
    expect(JSON.parse(aws.sns.messages[0]!.message)).toMatchObject({
      counts: { cancelled: BULK + 4, exempt: 1 },
      newCounts: { cancelled: BULK + 4 },
    });
  });

  it('in detect mode sends no state-changing request and says what would have happened', async () => {
    const result = await handler({ mode: 'detect' })(fixture('alarm-alarm'), context());
    expect(result.summary).toEqual({ detected: BULK + 4, exempt: 1 });
    expect(stateChangingRequests()).toEqual([]);
    expect(sim.keys.aws(sim.keys.byName('payments').id)?.KeyState).toBe('PendingDeletion');
  });

  it('throws when CipherTrust Manager is down, after logging and notifying the failed key', async () => {
    sim.faults.add({ status: 503, times: Number.POSITIVE_INFINITY });
    await expect(handler()(scheduleEventFor('payments'), context())).rejects.toThrow(
      /1 of 1 key\(s\) failed for event evt-payments/,
    );
    expect(aws.sns.messages.map((m) => m.subject)).toEqual([
      'FAILED to cancel KMS key deletion: ' +
        sim.keys.byName('payments').aws_param.KeyID +
        ' (111122223333 us-east-1)',
    ]);
    expect(output.text()).toContain('"outcome":"failed"');
  });

  it('still cancels when the SNS stand-in fails to publish', async () => {
    aws.faults.failNext({ service: 'sns', status: 500, times: 10 });
    const result = await handler()(scheduleEventFor('payments'), context());
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(sim.keys.aws(sim.keys.byName('payments').id)?.KeyState).toBe('Disabled');
    expect(output.text()).toContain('"message":"notification failed"');
  });
});
