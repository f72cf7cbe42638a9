import { Logger } from '@aws-lambda-powertools/logger';
import type { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSnsNotifier } from '../../../functions/adapters/notifier.ts';
import { captureOutput } from '../../helpers/lambda.ts';

const TOPIC = 'arn:aws:sns:us-west-2:111122223333:cckm-deletion-guard';
const NOTIFICATION = {
  subject: 'KMS key deletion cancelled: k',
  message: '{}',
  outcome: 'cancelled',
} as const;

/** The abort signal the notifier hands the SDK: its budget, which the SDK watches through `onabort`. */
interface SdkSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  onabort: (() => void) | null;
}

/** A stand-in SNS client: records each call's abort signal and answers as `answer` says. */
function fakeClient(answer: (signal: SdkSignal) => Promise<unknown>) {
  const signals: SdkSignal[] = [];
  const client = {
    send(_command: PublishCommand, options: { abortSignal: SdkSignal }) {
      signals.push(options.abortSignal);
      return answer(options.abortSignal);
    },
  } as unknown as SNSClient;
  return { client, signals };
}

/**
 * Settles with the signal's abort as the SDK's HTTP handler does for a signal without
 * `addEventListener`: it sets `onabort`, and rejects with an `AbortError` "Request aborted" whose cause
 * is the signal's reason.
 */
function untilAborted(signal: SdkSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.onabort = () => {
      const error = new Error('Request aborted');
      error.name = 'AbortError';
      error.cause = signal.reason;
      reject(error);
    };
  });
}

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
});

describe('createSnsNotifier', () => {
  it('abandons a publish after its timeout with the reason AbortSignal.timeout gives, and logs it', async () => {
    const { client, signals } = fakeClient(untilAborted);
    const notify = createSnsNotifier({ client, topicArn: TOPIC, logger: new Logger(), timeoutMs: 5 });
    await expect(notify(NOTIFICATION)).resolves.toBe(false);
    const reason = signals[0]?.reason as DOMException;
    expect(reason).toBeInstanceOf(DOMException);
    expect(reason.name).toBe('TimeoutError');
    expect(reason.message).toBe('The operation was aborted due to timeout');
    expect(output.lines()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'notification failed',
        kind: 'key',
        outcome: 'cancelled',
        errorName: 'AbortError',
        errorMessage: 'Request aborted',
      }),
    );
  });

  it('fails each publish with the RangeError AbortSignal.timeout gives a delay it refuses', async () => {
    for (const timeoutMs of [-1, 1.5, 2 ** 32]) {
      const { client, signals } = fakeClient(async () => ({ MessageId: 'm-1' }));
      const notify = createSnsNotifier({ client, topicArn: TOPIC, logger: new Logger(), timeoutMs });
      await expect(notify(NOTIFICATION)).resolves.toBe(false);
      expect(signals).toEqual([]);
    }
    const failures = output.lines().filter((l) => l.message === 'notification failed');
    expect(failures.map((l) => [l.errorName, String(l.errorMessage).slice(0, 39)])).toEqual([
      ['RangeError', 'The value of "delay" is out of range. I'],
      ['RangeError', 'The value of "delay" is out of range. I'],
      ['RangeError', 'The value of "delay" is out of range. I'],
    ]);
  });

  it('never aborts a publish that finished: its timer is cleared', async () => {
    const { client, signals } = fakeClient(async () => ({ MessageId: 'm-1' }));
    const notify = createSnsNotifier({ client, topicArn: TOPIC, logger: new Logger(), timeoutMs: 5 });
    await expect(notify(NOTIFICATION)).resolves.toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
  });

  it('never aborts a publish that failed before its timeout', async () => {
    const { client, signals } = fakeClient(async () => {
      throw new Error('SNS is throttling');
    });
    const notify = createSnsNotifier({ client, topicArn: TOPIC, logger: new Logger(), timeoutMs: 5 });
    await expect(notify(NOTIFICATION)).resolves.toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(signals[0]?.aborted).toBe(false);
    expect(output.lines()).toContainEqual(expect.objectContaining({ errorMessage: 'SNS is throttling' }));
  });
});
