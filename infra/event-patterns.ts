/**
 * EventBridge names and patterns shared by the hub (default bus and hub bus) and the spokes, so a
 * spoke forwards exactly what the hub's rules match.
 */
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { Match } from 'aws-cdk-lib/aws-events';
import { HEARTBEAT_RULE_NAME } from '../functions/shared/telemetry.ts';

/** The hub's own event bus, to which every spoke forwards. */
export const HUB_BUS_NAME = 'cckm-deletion-guard';

/** A spoke's rule on its default bus that forwards CloudTrail ScheduleKeyDeletion to the hub bus. */
export const FORWARD_RULE_NAME = 'cckm-deletion-guard-forward';

/**
 * A spoke's hourly heartbeat rule. The hub recognizes a heartbeat by a `resources` entry naming a rule
 * that starts with this name (contract section 4); the remediation function reads the same constant.
 */
export { HEARTBEAT_RULE_NAME };

/** `arn:<partition>:events:<region>:<account>:event-bus/cckm-deletion-guard` (partition from the caller). */
export function hubBusArn(hub: { account: string; region: string }, partition = 'aws'): string {
  return `arn:${partition}:events:${hub.region}:${hub.account}:event-bus/${HUB_BUS_NAME}`;
}

/**
 * CloudTrail `ScheduleKeyDeletion` from KMS: `succeeded` (no errorCode: remediate), `denied` (errorCode:
 * notify) or `any` (both: what a spoke forwards).
 */
export function scheduleKeyDeletionPattern(outcome: 'succeeded' | 'denied' | 'any'): EventPattern {
  return {
    source: ['aws.kms'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      eventName: ['ScheduleKeyDeletion'],
      ...(outcome === 'any' ? {} : { errorCode: [{ exists: outcome === 'denied' }] }),
    },
  };
}

/** A spoke's heartbeat as the hub bus receives it: a Scheduled Event whose `resources` name the heartbeat rule. */
export function heartbeatPattern(): EventPattern {
  return {
    source: ['aws.events'],
    detailType: ['Scheduled Event'],
    // Any partition, Region and account; the rule name may carry a suffix (heartbeat*).
    resources: Match.wildcard(`arn:*:events:*:*:rule/${HEARTBEAT_RULE_NAME}*`),
  };
}
