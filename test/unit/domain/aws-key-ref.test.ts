import { describe, expect, it } from 'vitest';
import { isCheckedKeyRef, parseKeyArn, parseKeyIdRef } from '../../../functions/domain/aws-key-ref.ts';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;

describe('checked key references', () => {
  it('marks what the parsers return as checked, and freezes it so its fields stay the checked ones', () => {
    for (const ref of [
      parseKeyArn(ARN),
      parseKeyIdRef(KEY_ID, 'us-west-2'),
      parseKeyIdRef(KEY_ID, 'us-west-2', '111122223333'),
    ]) {
      expect(isCheckedKeyRef(ref)).toBe(true);
      expect(Object.isFrozen(ref)).toBe(true);
      expect(() => {
        (ref as { region: string }).region = 'eu-west-1&keystate=Enabled';
      }).toThrow(TypeError);
      expect(ref.region).toBe('us-west-2');
    }
  });

  it('returns the same fields as before', () => {
    expect(parseKeyArn(ARN)).toEqual({
      arn: ARN,
      region: 'us-west-2',
      account: '111122223333',
      keyId: KEY_ID,
    });
    expect(parseKeyIdRef(KEY_ID, 'us-west-2')).toEqual({ keyId: KEY_ID, region: 'us-west-2' });
  });

  it('does not take a copy, a look-alike or a non-object for a checked reference', () => {
    const ref = parseKeyIdRef(KEY_ID, 'us-west-2');
    expect(isCheckedKeyRef({ ...ref })).toBe(false);
    expect(isCheckedKeyRef({ keyId: KEY_ID, region: 'us-west-2' })).toBe(false);
    expect(isCheckedKeyRef(undefined)).toBe(false);
    expect(isCheckedKeyRef(null)).toBe(false);
    expect(isCheckedKeyRef(ARN)).toBe(false);
  });
});
