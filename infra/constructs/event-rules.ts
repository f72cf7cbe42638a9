import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeControl } from '../compliance.ts';
import type { GuardSettings } from '../context.ts';

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

export interface EventRulesProps {
  readonly settings: Pick<GuardSettings, 'alarmNames' | 'sweepSchedule'>;
  readonly remediation: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * The EventBridge rules of contract section 4 on the default bus, each with a retry policy and the
 * dead-letter queue, added to `scope` directly so a deployed stack keeps every logical id.
 */
export function eventRules(scope: Construct, props: EventRulesProps): void {
  const s = props.settings;
  const target = () =>
    new targets.LambdaFunction(props.remediation, {
      deadLetterQueue: props.deadLetterQueue,
      // EventBridge retries only failures to hand the event to Lambda (throttling, service errors);
      // function errors are retried by Lambda's asynchronous invocation and land in the same queue.
      retryAttempts: 8,
      maxEventAge: Duration.hours(2),
    });
  const scheduleKeyDeletion = (errorCode: { exists: boolean }) => ({
    source: ['aws.kms'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      eventName: ['ScheduleKeyDeletion'],
      errorCode: [errorCode],
    },
  });

  new events.Rule(scope, 'ScheduleKeyDeletionRule', {
    description: 'CloudTrail ScheduleKeyDeletion that succeeded: remediate',
    eventPattern: scheduleKeyDeletion({ exists: false }),
    targets: [target()],
  });
  new events.Rule(scope, 'ScheduleKeyDeletionDeniedRule', {
    description: 'CloudTrail ScheduleKeyDeletion that was refused: notify',
    eventPattern: scheduleKeyDeletion({ exists: true }),
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
