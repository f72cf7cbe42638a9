import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CckmApi } from '../../functions/domain/ports.ts';
import type { RemediationResult } from '../../functions/domain/remediation-outcome.ts';
import { createRemediationHandler } from '../../functions/remediate-deletion.ts';
import type { PolicyConfig } from '../../functions/shared/config.ts';
import { AuthenticationError, ConfigError, UpstreamError } from '../../functions/shared/errors.ts';
import { GuardLogger } from '../../functions/shared/logger.ts';
import { FakeCm, fixture, key, policyOf } from '../helpers/fake-cckm.ts';
import { captureOutput, lambdaContext } from '../helpers/lambda.ts';

const TOPIC = 'arn:aws:sns:us-west-2:111122223333:cckm-deletion-guard';
const SECRET_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.sig-DO-NOT-LOG';
const SECRET_PASSWORD = 'hunter2-correct-horse';

const sns = mockClient(SNSClient);
/** Any SNSClient: mockClient stubs the class, and the handler takes a getter as the entry builds it on first use. */
const snsClient = new SNSClient({ region: 'us-west-2' });

/** Everything Powertools writes (logs and EMF). */
let output: ReturnType<typeof captureOutput>;

function auditLines() {
  return output.lines().filter((l) => l.message === 'remediation outcome');
}

interface Directive {
  readonly Namespace: string;
  readonly Dimensions: string[][];
  readonly Metrics: { Name: string; Unit: string }[];
}

/** Each EMF line's directives that hold metric `name`, with the line. */
function emfDirectives(name: string): { line: Record<string, unknown>; directive: Directive }[] {
  return output.lines().flatMap((line) => {
    const aws = line._aws as { CloudWatchMetrics?: Directive[] } | undefined;
    return (aws?.CloudWatchMetrics ?? [])
      .filter((d) => d.Metrics.some((m) => m.Name === name))
      .map((directive) => ({ line, directive }));
  });
}

/** `Outcome` datapoints by outcome; each under exactly the dashboard's namespace and dimensions. */
function emfOutcomes(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { line, directive } of emfDirectives('Outcome')) {
    expect(directive.Namespace).toBe('CckmDeletionGuard');
    expect(directive.Dimensions).toEqual([['service', 'outcome']]);
    expect(directive.Metrics).toEqual([{ Name: 'Outcome', Unit: 'Count' }]);
    expect(line.service).toBe('cckm-deletion-guard');
    expect(typeof line.Outcome).toBe('number');
    counts[line.outcome as string] = (counts[line.outcome as string] ?? 0) + (line.Outcome as number);
  }
  return counts;
}

/** `Events` datapoints by event kind; each under the dimensions `service` and `kind` only. */
function emfEvents(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { line, directive } of emfDirectives('Events')) {
    expect(directive.Namespace).toBe('CckmDeletionGuard');
    expect(directive.Dimensions).toEqual([['service', 'kind']]);
    expect(directive.Metrics).toEqual([{ Name: 'Events', Unit: 'Count' }]);
    expect(line.service).toBe('cckm-deletion-guard');
    counts[line.kind as string] = (counts[line.kind as string] ?? 0) + (line.Events as number);
  }
  return counts;
}

/** The sum of a guard counter (`LedgerErrors`, `NotificationsFailed`, ...) over the EMF lines, service dimension only. */
function guardMetric(name: string): number | undefined {
  let sum: number | undefined;
  for (const { line, directive } of emfDirectives(name)) {
    expect(directive.Dimensions).toEqual([['service']]);
    expect(directive.Metrics).toEqual([{ Name: name, Unit: 'Count' }]);
    sum = (sum ?? 0) + (line[name] as number);
  }
  return sum;
}

function context(remainingMs = 60_000): Context {
  return lambdaContext(remainingMs, { functionName: 'remediate-deletion' });
}

function handlerWith(
  cckm: CckmApi,
  policy: Partial<PolicyConfig> = { notifyTopicArn: TOPIC },
  extra: { concurrency?: number; now?: () => number; safetyMarginMs?: number } = {},
) {
  return createRemediationHandler({
    cckm: () => cckm,
    policy: () => policyOf(policy),
    sns: () => snsClient,
    logger: new GuardLogger({ serviceName: 'cckm-deletion-guard' }),
    metrics: { namespace: 'CckmDeletionGuard', enabled: true },
    ...extra,
  });
}

function manyKeys(n: number) {
  return Array.from({ length: n }, (_, i) =>
    key({ keyId: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000` }),
  );
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  output = captureOutput();
});

afterEach(() => {
  output.restore();
});

describe('remediate-deletion handler', () => {
  it('hands no INFO line to a logger at WARN (the fields are not built), and every one at INFO', async () => {
    for (const [logLevel, expected] of [
      ['WARN', 0],
      ['INFO', 2],
    ] as const) {
      const logger = new GuardLogger({ serviceName: 'cckm-deletion-guard', logLevel });
      const info = vi.spyOn(logger, 'info');
      const handler = createRemediationHandler({
        cckm: () => new FakeCm([key()]),
        policy: () => policyOf({ notifyTopicArn: TOPIC }),
        sns: () => snsClient,
        logger,
        metrics: { namespace: 'CckmDeletionGuard', enabled: true },
      });
      const result = await handler(fixture('schedule-single-region'), context());
      expect(result.summary).toEqual({ cancelled: 1 });
      expect(info.mock.calls.map(([message]) => message)).toEqual(
        expected === 0 ? [] : ['remediation outcome', 'remediation summary'],
      );
    }
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  it('cancels a scheduled key, returns its outcome, writes one audit line, one metric and one message', async () => {
    const record = key();
    const fake = new FakeCm([record]);
    const result = await handlerWith(fake)(fixture('schedule-single-region'), context());

    expect(result).toMatchObject({
      eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
      kind: 'schedule-key-deletion',
      summary: { cancelled: 1 },
      outcomes: [{ outcome: 'cancelled', key: { cckmId: record.cckmId } }],
    });
    expect(fake.methods()).toEqual(['findAwsKey', 'cancelDeletion']);
    expect(auditLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        service: 'cckm-deletion-guard',
        function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        outcome: 'cancelled',
        reason: expect.stringContaining('cancel only'),
        cckmId: record.cckmId,
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        aliases: ['alias/payments'],
        account: '111122223333',
        region: 'us-west-2',
        actor: 'arn:aws:iam::111122223333:user/Alice',
        eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
        eventTime: '2021-03-23T18:58:30Z',
        pendingWindowInDays: 20,
        deletionDate: '2021-04-12T18:58:30.000Z',
        mode: 'remediate',
      }),
    ]);
    expect(emfOutcomes()).toEqual({ cancelled: 1 });
    expect(emfEvents()).toEqual({ 'schedule-key-deletion': 1 });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: 'KMS key deletion cancelled: alias/payments (111122223333 us-west-2)',
      Message: expect.stringContaining('"outcome": "cancelled"'),
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'cancelled' },
        kind: { DataType: 'String', StringValue: 'key' },
      },
    });
  });

  it('is harmless on duplicate delivery: the second is not-pending and changes nothing', async () => {
    const fake = new FakeCm([key()]);
    const handler = handlerWith(fake);
    const first = await handler(fixture('schedule-single-region'), context());
    const second = await handler(fixture('schedule-single-region'), context());
    expect([first.summary, second.summary]).toEqual([{ cancelled: 1 }, { 'not-pending': 1 }]);
    expect(fake.stateChangingCalls()).toHaveLength(2);
    expect(fake.records.values().next().value?.state).toBe('Disabled');
    expect(sns).toHaveReceivedNthCommandWith(PublishCommand, 2, {
      Subject: 'KMS key not pending deletion: alias/payments (111122223333 us-west-2)',
    });
  });

  it('cancels and enables a key whose CCKM copy is stale (scheduled in AWS, still Enabled in CCKM)', async () => {
    const record = key({ state: 'Enabled' });
    const fake = new FakeCm([record]);
    fake.setAwsState(record.cckmId, 'PendingDeletion');
    const result = await handlerWith(fake)(fixture('schedule-single-region'), context());
    expect(result.summary).toEqual({ 'cancelled-and-enabled': 1 });
    expect(fake.methods()).toEqual(['findAwsKey', 'cancelDeletion', 'enableKey']);
  });

  it('throws after deciding, logging and notifying every other key when one key failed', async () => {
    const keys = manyKeys(3);
    const fake = new FakeCm(keys);
    fake.failures.set('cancelDeletion', {
      error: new UpstreamError('CipherTrust Manager answered 503 after 3 attempts', { status: 503 }),
      ids: [keys[1]?.cckmId ?? ''],
    });
    const handler = handlerWith(fake);
    await expect(handler(fixture('scheduled-sweep'), context())).rejects.toThrow(
      /^1 of 3 key\(s\) failed for event 53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa; the event will be retried: .*cancel-deletion failed: UpstreamError: CipherTrust Manager answered 503/,
    );
    expect(auditLines().map((l) => l.outcome)).toEqual(['cancelled', 'failed', 'cancelled']);
    // One digest for the sweep, led by the failure.
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: 'CCKM Deletion Guard sweep: 1 failed, 2 cancelled',
      MessageAttributes: expect.objectContaining({ outcome: { DataType: 'String', StringValue: 'failed' } }),
    });
    expect(emfOutcomes()).toEqual({ cancelled: 2, failed: 1 });
    expect(emfEvents()).toEqual({ sweep: 1 });
  });

  it('throws when CipherTrust Manager is down for a CloudTrail event (so EventBridge retries)', async () => {
    const fake = new FakeCm([key()]);
    fake.failures.set('findAwsKey', {
      error: new UpstreamError('CipherTrust Manager unreachable: ECONNREFUSED'),
    });
    await expect(handlerWith(fake)(fixture('schedule-single-region'), context())).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(auditLines()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: expect.stringMatching(/^FAILED to cancel KMS key deletion: 1234abcd-/),
    });
  });

  it('does not fail, undo or repeat a cancel when the notification cannot be published', async () => {
    sns.on(PublishCommand).rejects(new Error('SNS is throttling'));
    const fake = new FakeCm([key()]);
    const result = await handlerWith(fake)(fixture('schedule-single-region'), context());
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(fake.stateChangingCalls()).toHaveLength(1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(output.lines()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'notification failed',
        errorMessage: 'SNS is throttling',
      }),
    );
    expect(guardMetric('NotificationsFailed')).toBe(1);
  });

  it('throws after deciding when a notification was the only effect and could not be published', async () => {
    sns.on(PublishCommand).rejects(new Error('SNS is throttling'));
    const fake = new FakeCm([key()]);
    await expect(
      handlerWith(fake, { mode: 'detect', notifyTopicArn: TOPIC })(
        fixture('schedule-single-region'),
        context(),
      ),
    ).rejects.toThrow(/notification\(s\) that were the event's only effect could not be published/);
    expect(auditLines().map((l) => l.outcome)).toEqual(['detected']);
    expect(emfOutcomes()).toEqual({ detected: 1 });
    expect(guardMetric('NotificationsFailed')).toBe(1);
  });

  it('in detect mode makes no state-changing call and says what would have happened', async () => {
    const fake = new FakeCm(manyKeys(3));
    const result = await handlerWith(fake, { mode: 'detect', notifyTopicArn: TOPIC })(
      fixture('alarm-alarm'),
      context(),
    );
    expect(result.summary).toEqual({ detected: 3 });
    expect(fake.stateChangingCalls()).toEqual([]);
    expect(result.outcomes[0]?.reason).toBe(
      'detect mode: would cancel the deletion (the key would stay disabled)',
    );
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: 'CCKM Deletion Guard sweep (detect mode): 3 detected',
    });
  });

  it('sweeps many keys over several pages with at most 8 CipherTrust Manager calls in flight', async () => {
    const fake = new FakeCm(manyKeys(120));
    fake.pageSize = 50;
    fake.delayMs = 1;
    const result = await handlerWith(fake, {})(fixture('scheduled-sweep'), context());
    expect(result.summary).toEqual({ cancelled: 120 });
    expect(fake.maxInFlight).toBe(8);
    expect(
      output
        .lines()
        .filter((l) => l.message === 'sweep listing')
        .map((l) => l.page),
    ).toEqual([1, 2, 3]);
    expect(
      output
        .lines()
        .filter((l) => l.message === 'sweep progress')
        .map((l) => l.decided),
    ).toEqual([100]);
    expect(output.lines().find((l) => l.message === 'remediation summary')).toMatchObject({
      kind: 'sweep',
      keys: 120,
      summary: { cancelled: 120 },
      durationMs: expect.any(Number),
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('stops starting keys when the Lambda is about to time out, marks the rest failed and throws', async () => {
    const fake = new FakeCm(manyKeys(20));
    let clock = 0;
    fake.onCall = () => {
      clock += 1000;
    };
    // 12 s left, 5 s kept back: deadline at 7 s. The listing takes 1 s and each key 1 s (the cancel);
    // a key starts only with 1.5 s left, so five fit.
    const handler = handlerWith(fake, {}, { now: () => clock, concurrency: 1 });
    const ctx = { ...context(), getRemainingTimeInMillis: () => 12_000 };
    await expect(handler(fixture('scheduled-sweep'), ctx)).rejects.toThrow(
      /15 of 20 key\(s\) failed.*time budget/,
    );
    expect(fake.calls.filter((c) => c.method === 'cancelDeletion').every((c) => c.deadline === 7_000)).toBe(
      true,
    );
    expect(emfOutcomes()).toEqual({ cancelled: 5, failed: 15 });
  });

  it('ignores garbage and unrelated events without an error, a call or a message', async () => {
    const fake = new FakeCm([key()]);
    const handler = handlerWith(fake);
    for (const event of [null, [], { detail: null }, fixture('kms-cmk-deletion'), fixture('alarm-ok')]) {
      const result: RemediationResult = await handler(event, context());
      expect(result).toMatchObject({ kind: 'ignored', outcomes: [], summary: {} });
    }
    expect(fake.calls).toEqual([]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(output.lines().filter((l) => l.message === 'event ignored')).toHaveLength(5);
    expect(emfOutcomes()).toEqual({});
    expect(emfEvents()).toEqual({ ignored: 5 });
  });

  it('notifies a denied attempt without calling CipherTrust Manager', async () => {
    const fake = new FakeCm([key({ state: 'Enabled' })]);
    const result = await handlerWith(fake)(fixture('schedule-denied'), context());
    expect(result.summary).toEqual({ 'denied-attempt': 1 });
    expect(fake.calls).toEqual([]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject:
        'KMS key deletion attempt denied: 1234abcd-12ab-34cd-56ef-1234567890ab (111122223333 us-west-2)',
    });
  });

  it('publishes each warm event to the topic and client its invocation resolves', async () => {
    const OTHER_TOPIC = 'arn:aws:sns:us-west-2:111122223333:other-topic';
    const otherClient = new SNSClient({ region: 'eu-west-1' });
    const steps: { topic?: string; client: SNSClient }[] = [
      { topic: TOPIC, client: snsClient },
      { topic: TOPIC, client: snsClient },
      { topic: OTHER_TOPIC, client: snsClient },
      { client: snsClient },
      { topic: OTHER_TOPIC, client: otherClient },
      { topic: TOPIC, client: snsClient },
    ];
    let step = 0;
    const handler = createRemediationHandler({
      cckm: () => new FakeCm([]),
      policy: () => policyOf(steps[step]?.topic ? { notifyTopicArn: steps[step]?.topic } : {}),
      sns: () => steps[step]?.client ?? snsClient,
      logger: new GuardLogger({ serviceName: 'cckm-deletion-guard' }),
      metrics: { namespace: 'CckmDeletionGuard', enabled: true },
    });
    const clients: unknown[] = [];
    for (; step < steps.length; step++) {
      const calls = sns.commandCalls(PublishCommand).length;
      const result = await handler(fixture('schedule-denied'), context());
      expect(result.summary).toEqual({ 'denied-attempt': 1 });
      const call = sns.commandCalls(PublishCommand)[calls];
      expect(call?.args[0].input.TopicArn).toBe(steps[step]?.topic);
      clients.push(call?.thisValue);
    }
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 5);
    const expected = [snsClient, snsClient, snsClient, undefined, otherClient, snsClient];
    clients.forEach((client, i) => {
      expect(client).toBe(expected[i]);
    });
  });

  it('publishes nothing when NOTIFY_TOPIC_ARN is not set', async () => {
    const result = await handlerWith(new FakeCm([key()]), {})(fixture('schedule-single-region'), context());
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('puts no credential in any log line, metric or message, even when an error carries one', async () => {
    const keys = manyKeys(2);
    const fake = new FakeCm(keys);
    const leaky = new AuthenticationError(
      'CipherTrust Manager refused the credentials',
      { status: 401 },
      {
        cause: { headers: { authorization: `Bearer ${SECRET_TOKEN}` }, password: SECRET_PASSWORD },
      },
    );
    fake.failures.set('cancelDeletion', { error: leaky, ids: [keys[0]?.cckmId ?? ''] });
    await expect(handlerWith(fake)(fixture('scheduled-sweep'), context())).rejects.toThrow(
      AuthenticationError.name,
    );
    const published = sns.commandCalls(PublishCommand).map((c) => JSON.stringify(c.args[0].input));
    expect(published).toHaveLength(1);
    for (const text of [output.text(), ...published]) {
      expect(text).not.toContain(SECRET_TOKEN);
      expect(text).not.toContain(SECRET_PASSWORD);
      expect(text.toLowerCase()).not.toContain('bearer');
    }
  });

  it('throws the ConfigError naming the variable at invocation, before any call', async () => {
    const fake = new FakeCm([key()]);
    const handler = createRemediationHandler({
      cckm: () => fake,
      policy: () => {
        throw new ConfigError(
          'Invalid configuration: REENABLE must be never, always or if-previously-enabled',
        );
      },
      sns: () => snsClient,
      logger: new GuardLogger({ serviceName: 'cckm-deletion-guard' }),
      metrics: { namespace: 'CckmDeletionGuard', enabled: true },
    });
    await expect(handler(fixture('schedule-single-region'), context())).rejects.toThrow(/REENABLE must be/);
    expect(fake.calls).toEqual([]);
  });
});

describe('module entry point', () => {
  it('imports without throwing when misconfigured and names the variable at invocation', async () => {
    vi.resetModules();
    vi.stubEnv('CCKM_URL', 'http://cm.example.com');
    vi.stubEnv('CCKM_SECRET_ID', 'cckm/deletion-guard');
    vi.stubEnv('MODE', 'remediate');
    const module = await import('../../functions/remediate-deletion.ts');
    await expect(module.handler(fixture('schedule-single-region'), context())).rejects.toThrow(
      /CCKM_URL must use https:\/\//,
    );
  });
});
