import { describe, expect, it } from 'vitest';
import { describeActor, resolveEventKey } from '../../../functions/domain/event-identity.ts';
import { classifyEvent } from '../../../functions/domain/remediation-event.ts';
import { fixture } from '../../helpers/fake-cckm.ts';

const SINGLE_ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('classifyEvent over the documented events', () => {
  it('reads a single-Region ScheduleKeyDeletion: key ARN, actor, window, 24-hour "PM" date', () => {
    expect(classifyEvent(fixture('schedule-single-region'))).toEqual({
      kind: 'schedule-key-deletion',
      eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
      eventTime: '2021-03-23T18:58:30Z',
      account: '111122223333',
      region: 'us-west-2',
      actor: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/Alice' },
      key: {
        ref: {
          arn: SINGLE_ARN,
          region: 'us-west-2',
          account: '111122223333',
          keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        },
        given: SINGLE_ARN,
        account: '111122223333',
        region: 'us-west-2',
      },
      pendingWindowInDays: 20,
      deletionDate: '2021-04-12T18:58:30.000Z',
    });
  });

  it('reads a multi-Region primary: mrk- KeyId with its Region, no deletionDate so it is derived', () => {
    const event = classifyEvent(fixture('schedule-multi-region-primary'));
    expect(event).toMatchObject({
      kind: 'schedule-key-deletion',
      key: {
        ref: { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', region: 'us-west-2', account: '111122223333' },
      },
      pendingWindowInDays: 30,
      deletionDate: '2021-12-02T23:25:25.000Z',
    });
  });

  it('reads an assumed-role actor with its session issuer and the "Nov 9, 2021, 11:25:25 PM" date', () => {
    const event = classifyEvent(fixture('schedule-assumed-role'));
    expect(event).toMatchObject({
      kind: 'schedule-key-deletion',
      region: 'eu-central-1',
      actor: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/Dev/bob',
        issuerArn: 'arn:aws:iam::111122223333:role/Dev',
      },
      pendingWindowInDays: 7,
      deletionDate: '2021-11-09T23:25:25.000Z',
    });
  });

  it('classifies a ScheduleKeyDeletion with errorCode as a denied attempt, responseElements null', () => {
    const event = classifyEvent(fixture('schedule-denied'));
    expect(event).toMatchObject({
      kind: 'denied-attempt',
      eventId: 'd1e2f3a4-4444-4555-8666-777788889999',
      errorCode: 'AccessDeniedException',
      key: {
        ref: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', region: 'us-west-2', account: '111122223333' },
      },
    });
  });

  it('sweeps on an alarm entering ALARM and ignores the same alarm going back to OK', () => {
    expect(classifyEvent(fixture('alarm-alarm'))).toMatchObject({
      kind: 'sweep',
      trigger: 'alarm',
      origin: 'KMSKeyPendingDeletionErrorAlarm',
      eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    });
    expect(classifyEvent(fixture('alarm-ok'))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('OK'),
    });
  });

  it('sweeps on a Scheduled Event from aws.events', () => {
    expect(classifyEvent(fixture('scheduled-sweep'))).toMatchObject({
      kind: 'sweep',
      trigger: 'schedule',
      origin: 'arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule',
      eventId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    });
  });

  it('ignores KMS CMK Deletion (too late to act) and other CloudTrail KMS calls', () => {
    expect(classifyEvent(fixture('kms-cmk-deletion'))).toMatchObject({
      kind: 'ignored',
      eventId: 'e9ce3425-7d22-412a-a699-e7a5fc3fbc9a',
    });
    expect(classifyEvent(fixture('unrelated-cancel-key-deletion'))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('CancelKeyDeletion'),
    });
  });
});

describe('classifyEvent on garbage', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'ScheduleKeyDeletion'],
    ['an array', [fixture('schedule-single-region')]],
    ['an empty object', {}],
    ['CloudTrail without detail', { source: 'aws.kms', 'detail-type': 'AWS API Call via CloudTrail' }],
    [
      'CloudTrail with detail null',
      { source: 'aws.kms', 'detail-type': 'AWS API Call via CloudTrail', detail: null },
    ],
    ['an alarm without state', { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change' }],
    ['a schedule from another source', { source: 'custom.app', 'detail-type': 'Scheduled Event' }],
  ])('ignores %s without throwing', (_name, input) => {
    expect(classifyEvent(input).kind).toBe('ignored');
  });

  it('ignores an object whose getters throw', () => {
    const hostile = Object.defineProperty({}, 'source', {
      get() {
        throw new Error('boom');
      },
    });
    expect(classifyEvent(hostile)).toMatchObject({ kind: 'ignored' });
  });

  it('falls back to a sweep when a successful schedule names no resolvable key', () => {
    const event = fixture('schedule-single-region');
    const detail = event.detail as Record<string, unknown>;
    const broken = {
      ...event,
      detail: {
        ...detail,
        responseElements: { keyState: 'PendingDeletion' },
        resources: [],
        requestParameters: { keyId: 'not-a-key' },
      },
    };
    expect(classifyEvent(broken)).toMatchObject({
      kind: 'sweep',
      trigger: 'unresolved-key',
      origin: 'not-a-key',
    });
  });

  it('does not crash on a schedule without deletionDate, window or eventTime', () => {
    const event = fixture('schedule-single-region');
    const detail = event.detail as Record<string, unknown>;
    const bare = {
      ...event,
      time: undefined,
      detail: {
        ...detail,
        eventTime: undefined,
        requestParameters: {},
        responseElements: { keyId: SINGLE_ARN },
      },
    };
    expect(classifyEvent(bare)).toMatchObject({
      kind: 'schedule-key-deletion',
      pendingWindowInDays: 30,
      deletionDate: undefined,
    });
  });
});

describe('resolveEventKey', () => {
  const region = 'us-west-2';
  const account = '111122223333';

  it('prefers responseElements.keyId, then detail.resources[0].ARN', () => {
    const other = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(
      resolveEventKey(
        { responseElements: { keyId: SINGLE_ARN }, resources: [{ ARN: other }] },
        region,
        account,
      ).ref?.arn,
    ).toBe(SINGLE_ARN);
    expect(
      resolveEventKey({ responseElements: null, resources: [{ ARN: other }] }, region, account).ref,
    ).toMatchObject({
      region: 'eu-west-1',
      account: '444455556666',
    });
  });

  it.each([
    [
      'a bare KeyId',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', region, account },
    ],
    [
      'an mrk- KeyId',
      'mrk-1234abcd12ab34cd56ef1234567890ab',
      { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', region, account },
    ],
    [
      'a key ARN',
      SINGLE_ARN,
      { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', region, account, arn: SINGLE_ARN },
    ],
  ])('resolves requestParameters.keyId given as %s with the event Region and account', (_n, keyId, ref) => {
    expect(resolveEventKey({ requestParameters: { keyId } }, region, account).ref).toEqual(ref);
  });

  it('keeps an alias name or alias ARN unresolved, with the alias, for a denied attempt', () => {
    expect(resolveEventKey({ requestParameters: { keyId: 'alias/payments' } }, region, account)).toEqual({
      given: 'alias/payments',
      alias: 'alias/payments',
      account,
      region,
    });
    expect(
      resolveEventKey(
        { requestParameters: { keyId: 'arn:aws:kms:eu-west-1:444455556666:alias/payments' } },
        region,
        account,
      ),
    ).toEqual({
      given: 'arn:aws:kms:eu-west-1:444455556666:alias/payments',
      alias: 'alias/payments',
      account: '444455556666',
      region: 'eu-west-1',
    });
  });

  it('does not resolve a KeyId without a Region', () => {
    expect(
      resolveEventKey(
        { requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } },
        undefined,
        account,
      ).ref,
    ).toBeUndefined();
  });
});

describe('describeActor', () => {
  it('names the ARN, else the issuer, the invoking service or the identity type', () => {
    expect(describeActor({ arn: 'arn:aws:iam::111122223333:user/Alice' })).toBe(
      'arn:aws:iam::111122223333:user/Alice',
    );
    expect(describeActor({ type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' })).toBe(
      'cloudformation.amazonaws.com',
    );
    expect(describeActor({ type: 'AWSAccount' })).toBe('AWSAccount (no ARN)');
    expect(describeActor(undefined)).toBe('unknown');
  });
});
