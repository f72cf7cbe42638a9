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
        deletionDate: cloudTrailDate(new Date(now.getTime() + days * 86_400_000)),
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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A date as CloudTrail writes KMS's `deletionDate` (`Nov 2, 2021, 11:25:25 PM`, UTC; reference
 * aws-events.md), not ISO: the guard reads what production sends, so the bench times that path.
 */
export function cloudTrailDate(date: Date): string {
  const hours = date.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${h12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}
