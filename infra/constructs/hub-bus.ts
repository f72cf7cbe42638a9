import type { Duration } from 'aws-cdk-lib';
import { CfnOutput } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HUB_BUS_NAME, heartbeatPattern, scheduleKeyDeletionPattern } from '../event-patterns.ts';

export interface HubBusProps {
  /** `o-...`: any principal of this organization may put events (condition `aws:PrincipalOrgID`). */
  readonly organizationId?: string | undefined;
  /** Accounts allowed to put events, with or without an organization. */
  readonly spokeAccounts?: readonly string[] | undefined;
  /** The remediation function every rule on the bus invokes. */
  readonly target: lambda.IFunction;
  /** The same dead-letter queue as the default-bus rules. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The same retry policy as the default-bus rules. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * The hub's event bus `cckm-deletion-guard`, to which spokes forward KMS events and heartbeats, with its
 * resource policy and the rules that hand those events to the remediation function. Also emits the
 * stack output `HubEventBusArn`.
 */
export class HubBus extends Construct {
  readonly bus: events.EventBus;
  readonly scheduleKeyDeletionRule: events.Rule;
  readonly scheduleKeyDeletionDeniedRule: events.Rule;
  readonly heartbeatRule: events.Rule;

  constructor(scope: Construct, id: string, props: HubBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: HUB_BUS_NAME,
      description: 'CCKM Deletion Guard hub: KMS events and heartbeats forwarded by the spokes',
    });

    // Without an organization or spoke accounts there is no policy: only the hub's own account (through
    // IAM) may put events, which covers spokes in the hub account's other Regions.
    if (props.organizationId !== undefined) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OrganizationPutEvents',
          principals: [new iam.StarPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
        }),
      );
    }
    const accounts = props.spokeAccounts ?? [];
    if (accounts.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'SpokeAccountsPutEvents',
          principals: accounts.map((a) => new iam.AccountPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }

    const target = () =>
      new targets.LambdaFunction(props.target, {
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
      });
    this.scheduleKeyDeletionRule = new events.Rule(this, 'ScheduleKeyDeletionRule', {
      eventBus: this.bus,
      description: 'Forwarded CloudTrail ScheduleKeyDeletion that succeeded: remediate',
      eventPattern: scheduleKeyDeletionPattern('succeeded'),
      targets: [target()],
    });
    this.scheduleKeyDeletionDeniedRule = new events.Rule(this, 'ScheduleKeyDeletionDeniedRule', {
      eventBus: this.bus,
      description: 'Forwarded CloudTrail ScheduleKeyDeletion that was refused: notify',
      eventPattern: scheduleKeyDeletionPattern('denied'),
      targets: [target()],
    });
    this.heartbeatRule = new events.Rule(this, 'HeartbeatRule', {
      eventBus: this.bus,
      description: "A spoke's hourly heartbeat: record which account and Region are covered",
      eventPattern: heartbeatPattern(),
      targets: [target()],
    });

    // The logical id is the contract's output name, wherever this construct sits in the stack.
    new CfnOutput(this, 'HubEventBusArn', {
      value: this.bus.eventBusArn,
      description: 'ARN of the hub event bus the spokes forward to',
    }).overrideLogicalId('HubEventBusArn');
  }
}
