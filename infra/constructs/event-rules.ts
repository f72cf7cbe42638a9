import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeControl } from '../compliance.ts';
import type { GuardSettings } from '../context.ts';
import { scheduleKeyDeletionPattern } from '../event-patterns.ts';

/**
 * The dead-letter queue of the rules and the remediation function, added to `scope` directly (logical
 * id `DeadLetterQueue`, as deployed). SQS-managed encryption: EventBridge and Lambda deliver to it
 * without any KMS key permission.
 */
export function deadLetterQueue(scope: Construct): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is the dead-letter queue of the rules and the remediation function; it has none of its own.',
  });
  acknowledgeControl(
    queue,
    'CT.SQS.PR.1',
    'This queue is itself the dead-letter queue of the rules and the remediation function; a dead-letter queue of a dead-letter queue would only move the same messages one hop further.',
  );
  return queue;
}

/**
 * The retry policy of every rule that invokes the remediation function, on the default bus and on the
 * hub bus alike. EventBridge retries only failures to hand the event to Lambda (throttling, service
 * errors); function errors are retried by Lambda's asynchronous invocation and land in the same queue.
 */
export const RULE_TARGET_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(2) } as const;

export interface EventRulesProps {
  readonly settings: Pick<GuardSettings, 'alarmNames' | 'sweepSchedule'>;
  readonly remediation: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * The EventBridge rules of contract section 4 on the default bus, each with a retry policy and the
 * dead-letter queue, added to `scope` directly so a deployed stack keeps every logical id. The
 * CloudTrail patterns are event-patterns.ts's, shared with the hub bus and the spokes.
 */
export function eventRules(scope: Construct, props: EventRulesProps): void {
  const s = props.settings;
  const target = () =>
    new targets.LambdaFunction(props.remediation, {
      deadLetterQueue: props.deadLetterQueue,
      ...RULE_TARGET_RETRY,
    });

  new events.Rule(scope, 'ScheduleKeyDeletionRule', {
    description: 'CloudTrail ScheduleKeyDeletion that succeeded: remediate',
    eventPattern: scheduleKeyDeletionPattern('succeeded'),
    targets: [target()],
  });
  new events.Rule(scope, 'ScheduleKeyDeletionDeniedRule', {
    description: 'CloudTrail ScheduleKeyDeletion that was refused: notify',
    eventPattern: scheduleKeyDeletionPattern('denied'),
    targets: [target()],
  });
  new events.Rule(scope, 'AlarmRule', {
    description: 'A key-pending-deletion alarm entered ALARM: sweep',
    eventPattern: {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      detail: {
        alarmName: [...s.alarmNames.exact, ...s.alarmNames.prefixes.map((prefix) => ({ prefix }))],
        state: { value: ['ALARM'] },
      },
    },
    targets: [target()],
  });
  new events.Rule(scope, 'SweepRule', {
    description: 'Periodic sweep of keys pending deletion (CloudTrail events are best effort)',
    schedule: events.Schedule.expression(s.sweepSchedule),
    targets: [target()],
  });
}
