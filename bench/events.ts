import { randomUUID } from 'node:crypto';
import { keyArn, type SeedKey } from '../local/simulator/index.ts';

/**
 * EventBridge events for the remediation function, shaped as in reference/aws-events.md (the
 * CloudTrail `ScheduleKeyDeletion` record and the scheduled sweep).
 */

/** A CloudTrail `ScheduleKeyDeletion` event, delivered by EventBridge, for one seeded key. */
export function scheduleKeyDeletionEvent(key: SeedKey): Record<string, unknown> {
  const arn = keyArn(key.region, key.account, key.keyId);
  const now = new Date();
  const days = key.pendingWindowInDays ?? 30;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: key.account,
    time: now.toISOString(),
    region: key.region,
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLEID:bench',
        arn: `arn:aws:sts::${key.account}:assumed-role/Dev/bench`,
        accountId: key.account,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLEID',
            arn: `arn:aws:iam::${key.account}:role/Dev`,
            accountId: key.account,
            userName: 'Dev',
          },
        },
      },
      eventTime: now.toISOString(),
      eventSource: 'kms.amazonaws.com',
      eventName: 'ScheduleKeyDeletion',
      awsRegion: key.region,
      sourceIPAddress: '192.0.2.0',
      userAgent: 'AWS Internal',
      requestParameters: { pendingWindowInDays: days, keyId: key.keyId },
      responseElements: {
        keyId: arn,
        keyState: 'PendingDeletion',
        deletionDate: new Date(now.getTime() + days * 86_400_000).toISOString(),
      },
      requestID: randomUUID(),
      eventID: randomUUID(),
      resources: [{ accountId: key.account, type: 'AWS::KMS::Key', ARN: arn }],
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: key.account,
      eventCategory: 'Management',
    },
  };
}

/** The periodic sweep's `Scheduled Event`. */
export function sweepEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/cckm-deletion-guard-sweep'],
    detail: {},
  };
}
