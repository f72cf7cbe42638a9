import { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSnsNotifier } from '../../functions/adapters/notifier.ts';
import { type AwsStandIns, startAwsStandIns } from '../../local/aws/index.ts';
import { captureOutput } from '../helpers/lambda.ts';
import { startSilentServer } from '../helpers/silent-server.ts';

/**
 * The notifier with the real SNS client over real sockets: the call budget is the SDK's abort signal
 * (`call-budget.ts`), so these check that the SDK honours it, on a publish that succeeds and on one
 * the server never answers.
 */

const NOTIFICATION = {
  subject: 'KMS key deletion cancelled: k',
  message: '{"outcome":"cancelled"}',
  outcome: 'cancelled',
} as const;

function snsClient(endpoint: string): SNSClient {
  return new SNSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
  });
}

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
});

describe('createSnsNotifier with the AWS SDK', () => {
  it('publishes within its budget, and the budget ends nothing afterwards', async () => {
    const aws: AwsStandIns = await startAwsStandIns();
    const client = snsClient(aws.url);
    try {
      const topicArn = aws.sns.createTopic('notifier-test');
      const notify = createSnsNotifier({ client, topicArn, logger: new Logger(), timeoutMs: 50 });
      await expect(notify(NOTIFICATION)).resolves.toBe(true);
      await expect(notify(NOTIFICATION)).resolves.toBe(true);
      // Past both budgets: a late abort would show as a failure line or an unhandled rejection.
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(aws.sns.messages.filter((m) => m.topicArn === topicArn).map((m) => m.message)).toEqual([
        NOTIFICATION.message,
        NOTIFICATION.message,
      ]);
      expect(output.lines().filter((l) => l.message === 'notification failed')).toEqual([]);
    } finally {
      client.destroy();
      await aws.close();
    }
  });

  it('abandons a publish SNS never answers at its timeout, and logs it', async () => {
    const silent = await startSilentServer();
    const client = snsClient(silent.url);
    try {
      const notify = createSnsNotifier({
        client,
        topicArn: 'arn:aws:sns:us-east-1:000000000000:silent',
        logger: new Logger(),
        timeoutMs: 200,
      });
      await expect(notify(NOTIFICATION)).resolves.toBe(false);
      expect(silent.held.length).toBeGreaterThan(0);
      expect(output.lines()).toContainEqual(
        expect.objectContaining({ level: 'ERROR', message: 'notification failed', errorName: 'AbortError' }),
      );
    } finally {
      client.destroy();
      await silent.close();
    }
  });
});
