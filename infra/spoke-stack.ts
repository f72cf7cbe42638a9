import type { IAspect, StackProps } from 'aws-cdk-lib';
import {
  Aspects,
  Aws,
  BootstraplessSynthesizer,
  CfnCondition,
  CfnResource,
  CfnWaitConditionHandle,
  Duration,
  Fn,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { addConfusedDeputyGuards } from './compliance.ts';
import {
  FORWARD_RULE_NAME,
  HEARTBEAT_RULE_NAME,
  HUB_BUS_NAME,
  scheduleKeyDeletionPattern,
} from './event-patterns.ts';
import type { HubLocation } from './hub-context.ts';

/** Prefix of every spoke stack's name (`CckmDeletionGuardSpoke-<region>`) and of its alarm's name. */
export const SPOKE_STACK_PREFIX = 'CckmDeletionGuardSpoke';

/** The template condition under which a spoke creates its resources. */
export const SPOKE_CONDITION = 'NotInHubAccountAndRegion';

export interface SpokeStackProps extends StackProps {
  /** The hub's account and Region: the spoke targets the hub bus there. */
  readonly hub: HubLocation;
}

/** Puts every resource of the stack under one condition (resources that carry their own keep it). */
class ConditionAll implements IAspect {
  constructor(
    private readonly condition: CfnCondition,
    private readonly except: CfnResource,
  ) {}
  visit(node: IConstruct): void {
    if (node instanceof CfnResource && node !== this.except && node.cfnOptions.condition === undefined) {
      node.cfnOptions.condition = this.condition;
    }
  }
}

/**
 * A spoke (contract section 5): forwards CloudTrail ScheduleKeyDeletion (successful and denied) from this
 * account and Region's default bus to the hub bus, and sends an hourly heartbeat there. No function, no
 * secret, no asset: the same template serves `cdk deploy` and the organization StackSet. Synthesized
 * without bootstrap resources or the bootstrap-version rule, so a Region or account never bootstrapped
 * for CDK takes it as it is; `cdk deploy` uses the CLI's own credentials.
 */
export class SpokeStack extends Stack {
  readonly hubBusArn: string;
  readonly forwardRule: events.Rule;
  readonly heartbeatRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    super(scope, id, {
      description:
        'CCKM Deletion Guard spoke: forwards KMS ScheduleKeyDeletion events and an hourly heartbeat to the hub event bus',
      synthesizer: new BootstraplessSynthesizer(),
      ...props,
    });
    const { hub } = props;
    // In the constructor, so the StackSet's copy of this template (synthesized apart) carries them too.
    addConfusedDeputyGuards(this);
    // Same partition as the spoke: EventBridge does not forward across partitions.
    this.hubBusArn = `arn:${Aws.PARTITION}:events:${hub.region}:${hub.account}:event-bus/${HUB_BUS_NAME}`;
    const hubBus = events.EventBus.fromEventBusArn(this, 'HubBus', this.hubBusArn);

    // The hub's own default-bus rules cover its account and Region; a spoke there would double every event.
    const create = new CfnCondition(this, SPOKE_CONDITION, {
      expression: Fn.conditionNot(
        Fn.conditionAnd(
          Fn.conditionEquals(Aws.ACCOUNT_ID, hub.account),
          Fn.conditionEquals(Aws.REGION, hub.region),
        ),
      ),
    });
    // CloudFormation needs at least one resource once conditions are evaluated; a wait condition handle
    // without a wait condition is a placeholder that creates nothing in AWS and costs nothing.
    const placeholder = new CfnWaitConditionHandle(this, 'Placeholder');
    Aspects.of(this).add(new ConditionAll(create, placeholder));

    // SQS-managed encryption: EventBridge delivers dead letters without any KMS key permission.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // SQS's own default, written out: Control Tower's CT.SQS.PR.1 recognizes a dead-letter queue by it.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the forward and heartbeat rules; it has none of its own.',
    });

    // One role for both targets; the EventBus target adds its only statement: events:PutEvents on the hub bus.
    this.role = new iam.Role(this, 'ForwardRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description:
        'Lets EventBridge put the forwarded KMS events and heartbeats on the CCKM Deletion Guard hub bus',
    });
    const target = () =>
      new targets.EventBus(hubBus, { role: this.role, deadLetterQueue: this.deadLetterQueue });

    this.forwardRule = new events.Rule(this, 'ForwardRule', {
      ruleName: FORWARD_RULE_NAME,
      description:
        'CloudTrail ScheduleKeyDeletion (successful and denied): forward to the CCKM Deletion Guard hub',
      eventPattern: scheduleKeyDeletionPattern('any'),
      targets: [target()],
    });
    this.heartbeatRule = new events.Rule(this, 'HeartbeatRule', {
      ruleName: HEARTBEAT_RULE_NAME,
      description: 'Hourly heartbeat to the CCKM Deletion Guard hub: proves this account and Region forward',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [target()],
    });

    // No topic here (a spoke holds nothing to notify with): the alarm shows in this Region's console, and
    // the hub hears of a spoke that cannot forward because its heartbeats stop too (silent spoke).
    const alarm = new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
      alarmName: `${SPOKE_STACK_PREFIX}-dead-letters`,
      alarmDescription:
        'Events this spoke could not forward to the CCKM Deletion Guard hub bus are in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    Validations.of(alarm).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
      reason:
        'A spoke holds no notification target of its own; a spoke that cannot forward also stops its heartbeats, which the hub alarms on (silent spokes).',
    });
  }
}
