import { describe, expect, it } from 'vitest';
import {
  formatNotification,
  formatSubject,
  MAX_SUBJECT_LENGTH,
  shouldNotify,
} from '../../../functions/domain/outcome-notification.ts';
import type { OutcomeRecord } from '../../../functions/domain/remediation-outcome.ts';
import { OUTCOMES } from '../../../functions/domain/remediation-outcome.ts';

function record(overrides: Partial<OutcomeRecord> = {}): OutcomeRecord {
  return {
    outcome: 'cancelled',
    reason: 'cancel only (REENABLE=never): the key is now Disabled',
    key: {
      cckmId: '00000000-0000-4000-8000-000000000001',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      aliases: ['alias/payments'],
      account: '111122223333',
      region: 'us-west-2',
    },
    actor: 'arn:aws:iam::111122223333:user/Alice',
    eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
    eventTime: '2021-03-23T18:58:30Z',
    pendingWindowInDays: 20,
    deletionDate: '2021-04-12T18:58:30.000Z',
    mode: 'remediate',
    kind: 'schedule-key-deletion',
    ...overrides,
  };
}

describe('notification subject', () => {
  it('names the outcome, the alias, the account and the Region', () => {
    expect(formatSubject(record())).toBe(
      'KMS key deletion cancelled: alias/payments (111122223333 us-west-2)',
    );
  });

  it('falls back to the key id when the key has no alias', () => {
    expect(formatSubject(record({ key: { ...record().key, aliases: [] } }))).toBe(
      'KMS key deletion cancelled: 1234abcd-12ab-34cd-56ef-1234567890ab (111122223333 us-west-2)',
    );
  });

  it.each(OUTCOMES)(
    'stays under 100 printable ASCII characters for %s with a long non-ASCII alias',
    (outcome) => {
      const subject = formatSubject(
        record({
          outcome,
          key: { ...record().key, aliases: [`alias/${'ключ\n'.repeat(60)}`], region: 'ap-southeast-4' },
        }),
      );
      expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(subject).toMatch(/^[A-Za-z][\x20-\x7e]*$/);
      expect(subject).toContain('...');
      expect(subject).toContain('(111122223333 ap-southeast-4)');
    },
  );

  it('names whichever of the account and the Region is known, and neither when both are empty', () => {
    const key = { aliases: ['alias/payments'] };
    const subject = (extra: { account?: string; region?: string }) =>
      formatSubject(record({ key: { ...key, ...extra } }));
    expect(subject({ account: '111122223333' })).toBe(
      'KMS key deletion cancelled: alias/payments (111122223333)',
    );
    expect(subject({ region: 'us-west-2' })).toBe('KMS key deletion cancelled: alias/payments (us-west-2)');
    expect(subject({ account: '', region: 'us-west-2' })).toBe(
      'KMS key deletion cancelled: alias/payments (us-west-2)',
    );
    expect(subject({ account: '111122223333', region: '' })).toBe(
      'KMS key deletion cancelled: alias/payments (111122223333)',
    );
    expect(subject({ account: '', region: '' })).toBe('KMS key deletion cancelled: alias/payments');
    expect(subject({ account: 'a\u0007b', region: 'us-west-2' })).toBe(
      'KMS key deletion cancelled: alias/payments (a?b us-west-2)',
    );
  });

  it('reads "unknown key" when nothing identifies the key, and names a sweep that could not list keys', () => {
    expect(formatSubject(record({ outcome: 'failed', key: { aliases: [] } }))).toBe(
      'FAILED to cancel KMS key deletion: unknown key',
    );
    expect(formatSubject(record({ outcome: 'failed', kind: 'sweep', key: { aliases: [] } }))).toBe(
      'FAILED to cancel KMS key deletion: sweep (keys could not be listed)',
    );
  });
});

describe('notification message', () => {
  it('is JSON with outcome, reason, key, actor, event time, window and deletion date', () => {
    const n = formatNotification(record());
    expect(n.outcome).toBe('cancelled');
    expect(JSON.parse(n.message)).toEqual({
      outcome: 'cancelled',
      reason: 'cancel only (REENABLE=never): the key is now Disabled',
      key: {
        cckmId: '00000000-0000-4000-8000-000000000001',
        arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        aliases: ['alias/payments'],
        account: '111122223333',
        region: 'us-west-2',
      },
      actor: 'arn:aws:iam::111122223333:user/Alice',
      eventId: '3c4226b0-1e81-48a8-a333-7fa5f3cbd118',
      eventTime: '2021-03-23T18:58:30Z',
      pendingWindowInDays: 20,
      deletionDate: '2021-04-12T18:58:30.000Z',
      mode: 'remediate',
      trigger: 'schedule-key-deletion',
    });
  });
});

describe('shouldNotify', () => {
  it('tells a person about every outcome of a CloudTrail event except out-of-scope', () => {
    const quiet = OUTCOMES.filter((outcome) => !shouldNotify(record({ outcome })));
    expect(quiet).toEqual(['out-of-scope']);
  });

  it('stays quiet on a sweep for not-pending and exempt keys, which repeat every sweep', () => {
    const quiet = OUTCOMES.filter((outcome) => !shouldNotify(record({ outcome, kind: 'sweep' })));
    expect(quiet).toEqual(['not-pending', 'exempt', 'out-of-scope']);
  });

  it('never notifies a key outside scope, a denied attempt included (contract section 4)', () => {
    expect(shouldNotify(record({ outcome: 'out-of-scope', kind: 'denied-attempt' }))).toBe(false);
    expect(shouldNotify(record({ outcome: 'out-of-scope', kind: 'schedule-key-deletion' }))).toBe(false);
  });
});
