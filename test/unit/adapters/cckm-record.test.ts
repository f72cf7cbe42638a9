import { describe, expect, it } from 'vitest';
import { managedKeyOf, parseCckmRecord } from '../../../functions/adapters/cckm-record.ts';

const ID = '0f4e2a3c-6b1d-4e8f-9a7b-2c5d8e1f3a6b';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;

function record(param: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    id: ID,
    region: 'us-west-2',
    kms: 'kms-1',
    deletion_date: '2026-12-30T05:00:00Z',
    aws_param: {
      KeyID: KEY_ID,
      Arn: ARN,
      AWSAccountId: '111122223333',
      KeyState: 'PendingDeletion',
      Enabled: false,
      Alias: ['alias/payments'],
      Tags: [{ TagKey: 'team', TagValue: 'payments' }],
      ...param,
    },
    ...top,
  };
}

describe('parseCckmRecord', () => {
  it('keeps a well-formed record as it came, every field included', () => {
    const input = record();
    const copy = structuredClone(input);
    expect(parseCckmRecord(input)).toEqual(copy);
  });

  it('drops each optional field of the wrong type, keeps the rest, and leaves the input as it was', () => {
    for (const [field, bad] of [
      ['AWSAccountId', 111122223333],
      ['Enabled', 'false'],
      ['Alias', ['alias/ok', 7]],
      ['Tags', [{ TagKey: 'team' }]],
    ] as const) {
      const input = record({ [field]: bad });
      const copy = structuredClone(input);
      const parsed = parseCckmRecord(input);
      expect(parsed?.aws_param).toEqual({ ...copy.aws_param, [field]: undefined });
      expect(parsed).toEqual({ ...copy, aws_param: parsed?.aws_param });
      expect(input).toEqual(copy);
    }
  });

  it('refuses a record without the fields the guard relies on', () => {
    expect(parseCckmRecord(record({}, { id: 'not-a-uuid' }))).toBeUndefined();
    expect(parseCckmRecord(record({}, { region: '' }))).toBeUndefined();
    expect(parseCckmRecord(record({ KeyState: 3 }))).toBeUndefined();
    expect(parseCckmRecord({ ...record(), aws_param: [] })).toBeUndefined();
    expect(parseCckmRecord(null)).toBeUndefined();
  });
});

describe('managedKeyOf', () => {
  it('maps a record into the domain key, the deletion date in ISO 8601', () => {
    expect(managedKeyOf(record())).toEqual({
      cckmId: ID,
      arn: ARN,
      keyId: KEY_ID,
      account: '111122223333',
      region: 'us-west-2',
      aliases: ['alias/payments'],
      tags: [{ key: 'team', value: 'payments' }],
      state: 'PendingDeletion',
      deletionDate: '2026-12-30T05:00:00.000Z',
      gone: false,
    });
  });

  it('maps a record with wrong-typed optional fields as if they were absent', () => {
    const key = managedKeyOf(record({ AWSAccountId: 5, Alias: 'alias/x', Tags: {} }));
    expect(key).toMatchObject({ account: '111122223333', aliases: [], tags: [] });
  });
});
