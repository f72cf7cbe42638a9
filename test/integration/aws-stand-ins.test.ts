import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStandIns, startAwsStandIns } from '../../local/aws/index.ts';

let aws: AwsStandIns;
let secrets: SecretsManagerClient;
let sns: SNSClient;

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  aws = await startAwsStandIns();
  // The endpoint comes from the same variables the functions use.
  const env = aws.env();
  secrets = new SecretsManagerClient({
    region: env.AWS_REGION!,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER!,
    credentials,
  });
  sns = new SNSClient({ region: env.AWS_REGION!, endpoint: env.AWS_ENDPOINT_URL_SNS!, credentials });
});
afterEach(() => {
  aws.reset();
  aws.secrets.clear();
});
afterAll(async () => {
  secrets.destroy();
  sns.destroy();
  await aws.close();
});

describe('Secrets Manager GetSecretValue', () => {
  it('returns the secret by name and by ARN, with the real SDK, signed', async () => {
    const put = aws.secrets.put('cckm/deletion-guard', { refresh_token: 'rt-abc', ca_cert: 'PEM' });
    const byName = await secrets.send(new GetSecretValueCommand({ SecretId: 'cckm/deletion-guard' }));
    expect(byName).toMatchObject({ Name: 'cckm/deletion-guard', ARN: put.arn, VersionId: put.versionId });
    expect(JSON.parse(byName.SecretString!)).toEqual({ refresh_token: 'rt-abc', ca_cert: 'PEM' });
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    const byArn = await secrets.send(new GetSecretValueCommand({ SecretId: put.arn }));
    expect(byArn.Name).toBe('cckm/deletion-guard');
    expect(aws.secrets.reads('cckm/deletion-guard')).toBe(2);
    expect(aws.requests).toEqual([
      {
        service: 'secretsmanager',
        action: 'GetSecretValue',
        target: 'cckm/deletion-guard',
        status: 200,
        signed: true,
      },
      { service: 'secretsmanager', action: 'GetSecretValue', target: put.arn, status: 200, signed: true },
    ]);
  });

  it('serves the rotated value with a new VersionId after put()', async () => {
    const first = aws.secrets.put('s', { username: 'u', password: 'old' });
    const second = aws.secrets.put('s', { username: 'u', password: 'new' });
    expect(second.arn).toBe(first.arn);
    const r = await secrets.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(r.VersionId).toBe(second.versionId);
    expect(r.VersionId).not.toBe(first.versionId);
    expect(JSON.parse(r.SecretString!)).toMatchObject({ password: 'new' });
  });

  it('raises ResourceNotFoundException (400) for an unknown secret', async () => {
    const err = await secrets
      .send(new GetSecretValueCommand({ SecretId: 'missing' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    expect(aws.requests.map((r) => r.status)).toEqual([400]);
  });

  it('fails the next call with a 500 that the SDK retries, then serves the secret', async () => {
    aws.secrets.put('s', 'plain');
    aws.faults.failNext({ service: 'secretsmanager', status: 500 });
    const r = await secrets.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(r.SecretString).toBe('plain');
    expect(aws.requests.map((e) => [e.status, e.fault ?? false])).toEqual([
      [500, true],
      [200, false],
    ]);
    expect(aws.faults.pending()).toBe(0);
  });

  it('surfaces a persistent ThrottlingException after the SDK gives up', async () => {
    aws.secrets.put('s', 'plain');
    aws.faults.failNext({ service: 'secretsmanager', status: 400, code: 'ThrottlingException', times: 5 });
    const quick = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.url,
      credentials,
      maxAttempts: 2,
    });
    const err = await quick.send(new GetSecretValueCommand({ SecretId: 's' })).catch((e: unknown) => e);
    quick.destroy();
    expect(err).toMatchObject({ name: 'ThrottlingException' });
    expect(aws.requests).toHaveLength(2);
    expect(aws.faults.pending()).toBe(3);
  });

  it('resets a connection and delays an answer; the SDK retries the reset', async () => {
    aws.secrets.put('s', 'plain');
    aws.faults.failNext({ service: 'secretsmanager', reset: true });
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('plain');
    expect(aws.requests.map((e) => e.status)).toEqual([0, 200]);
    aws.faults.failNext({ service: 'secretsmanager', delayMs: 300 });
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('plain');
    // The delay rule took the call (and was used up) yet the call answered normally.
    expect(aws.requests.at(-1)).toMatchObject({ status: 200, fault: true });
    expect(aws.faults.pending()).toBe(0);
  });

  it('never records the secret value in its request log', async () => {
    aws.secrets.put('s', { password: 'sup3r-s3cret' });
    await secrets.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(JSON.stringify(aws.requests)).not.toContain('sup3r-s3cret');
  });
});

describe('SNS Publish', () => {
  it('records a published message with subject and attributes and returns its MessageId', async () => {
    const topic = aws.sns.createTopic('deletion-guard');
    const r = await sns.send(
      new PublishCommand({
        TopicArn: topic,
        Subject: 'cancelled: alias/payments 111122223333 us-east-1',
        Message: JSON.stringify({ outcome: 'cancelled' }),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: 'cancelled' } },
      }),
    );
    expect(r.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(aws.sns.messages).toEqual([
      expect.objectContaining({
        messageId: r.MessageId,
        topicArn: topic,
        subject: 'cancelled: alias/payments 111122223333 us-east-1',
        message: '{"outcome":"cancelled"}',
        messageAttributes: { outcome: { DataType: 'String', StringValue: 'cancelled' } },
      }),
    ]);
    expect(aws.requests).toEqual([
      { service: 'sns', action: 'Publish', target: topic, status: 200, signed: true },
    ]);
  });

  it('raises NotFoundException for an unknown topic', async () => {
    const err = await sns
      .send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: 'x' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('refuses a subject of 100 characters or more, or with a line break, as SNS does', async () => {
    const topic = aws.sns.createTopic('t');
    for (const Subject of ['x'.repeat(100), 'two\nlines']) {
      const err = await sns
        .send(new PublishCommand({ TopicArn: topic, Subject, Message: 'm' }))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'InvalidParameterException' });
    }
    expect(aws.sns.messages).toHaveLength(0);
  });

  it('fails the next publish with a 500 that the SDK retries', async () => {
    const topic = aws.sns.createTopic('t');
    aws.faults.failNext({ service: 'sns', status: 500 });
    await sns.send(new PublishCommand({ TopicArn: topic, Message: 'm' }));
    expect(aws.requests.map((e) => e.status)).toEqual([500, 200]);
    expect(aws.sns.messages).toHaveLength(1);
  });

  it('surfaces an SNS error code from a fault after retries', async () => {
    const topic = aws.sns.createTopic('t');
    aws.faults.failNext({ service: 'sns', status: 403, code: 'AuthorizationError', message: 'denied' });
    const err = await sns
      .send(new PublishCommand({ TopicArn: topic, Message: 'm' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AuthorizationErrorException', message: 'denied' });
    aws.faults.clear();
  });
});
