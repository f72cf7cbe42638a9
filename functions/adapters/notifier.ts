import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { OutcomeNotification } from '../domain/outcome-notification.ts';

/** Publishes remediation notifications; never throws, because a lost message must not fail a cancel. */
export type Notify = (notification: OutcomeNotification) => Promise<void>;

/** How long one publish may take before it is abandoned (and logged). */
export const PUBLISH_TIMEOUT_MS = 3000;

/** Creates a notifier that publishes to the SNS topic and logs, rather than throws, any failure. */
export function createSnsNotifier(options: {
  readonly client: SNSClient;
  readonly topicArn: string;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}): Notify {
  const { client, topicArn, logger } = options;
  const timeoutMs = options.timeoutMs ?? PUBLISH_TIMEOUT_MS;
  return async (notification) => {
    try {
      const result = await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: notification.subject,
          Message: notification.message,
          // Lets subscribers filter (e.g. only `failed` to a pager) without parsing the body.
          MessageAttributes: { outcome: { DataType: 'String', StringValue: notification.outcome } },
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      logger.debug('notification published', { outcome: notification.outcome, messageId: result.MessageId });
    } catch (error) {
      // Name and message only: SDK errors carry no credentials, but their metadata is not worth logging.
      logger.warn('notification failed', {
        outcome: notification.outcome,
        subject: notification.subject,
        errorName: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
      });
    }
  };
}
