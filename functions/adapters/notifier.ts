import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Notification } from '../domain/ports.ts';
import { errorFields } from '../shared/errors.ts';
import { DEBUG_LEVEL, printsAt } from '../shared/logger.ts';
import { CallBudget } from './call-budget.ts';

/**
 * Publishes remediation notifications: one key's message or a sweep's digest. Never throws, because a
 * lost message must not fail a cancel; it resolves false instead, and the domain counts it.
 */
export type Notify = (notification: Notification) => Promise<boolean>;

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
  // A delay `AbortSignal.timeout` refuses (not a whole number of ms from 0 to 2^32 - 1) still fails each
  // publish with its RangeError, as it did when every publish called it.
  const refused = !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= 0xffff_ffff);
  return async (notification) => {
    // A digest is filtered by its most pressing line; a key's message by its outcome.
    const isDigest = 'headline' in notification;
    const outcome = isDigest ? notification.headline : notification.outcome;
    const kind = isDigest ? 'digest' : 'key';
    // The shared budget timer (`call-budget.ts`), stopped once the publish settles, aborting with the reason
    // `AbortSignal.timeout` gives (a `TimeoutError`): a timeout signal's timer fires for every publish, 3 s
    // later, long after it finished, building an abort reason and dispatching an event nobody listens to.
    const budget = refused ? undefined : new CallBudget(timeoutMs);
    try {
      const command = new PublishCommand({
        TopicArn: topicArn,
        Subject: notification.subject,
        Message: notification.message,
        // Lets subscribers filter (e.g. only `failed` to a pager) without parsing the body.
        MessageAttributes: {
          outcome: { DataType: 'String', StringValue: outcome },
          kind: { DataType: 'String', StringValue: kind },
        },
      });
      // The budget itself is the signal (`call-budget.ts`: no AbortController, no EventTarget listeners).
      const result = await client.send(command, { abortSignal: budget ?? AbortSignal.timeout(timeoutMs) });
      if (printsAt(logger, DEBUG_LEVEL)) {
        logger.debug('notification published', { kind, outcome, messageId: result.MessageId });
      }
      return true;
    } catch (error) {
      // Name and message only: SDK errors carry no credentials.
      logger.error('notification failed', {
        kind,
        outcome,
        subject: notification.subject,
        ...errorFields(error),
      });
      return false;
    } finally {
      budget?.done();
    }
  };
}
