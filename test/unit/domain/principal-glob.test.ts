import { describe, expect, it } from 'vitest';
import { globMatches, MAX_MATCHED_ARN_LENGTH } from '../../../functions/domain/principal-glob.ts';

describe('globMatches', () => {
  it.each([
    ['arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Admin', true],
    ['arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/admin', false],
    ['arn:aws:iam::*:role/Admin', 'arn:aws:iam::111122223333:role/Admin', true],
    ['arn:aws:iam::*:role/Admin', 'arn:aws:iam::111122223333:role/Admin2', false],
    ['*', 'anything', true],
    ['*', '', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['a**b', 'ab', true],
    ['*-admin', 'arn:aws:sts::1:assumed-role/x-admin/s', false],
    ['arn:aws:sts::*:assumed-role/*-admin/*', 'arn:aws:sts::1:assumed-role/ops-admin/alice', true],
    ['arn:aws:iam::*:*/*/*/*-admin', 'arn:aws:iam::1:role/a/b/c-admin', true],
    ['x.y', 'xzy', false],
  ])('%s against %s is %s', (glob, text, expected) => {
    expect(globMatches(glob, text)).toBe(expected);
  });

  it('decides the pathological pattern on a long ARN by scanning, not backtracking', () => {
    // `^arn:aws:iam::.*:.*/.*/.*/.*/.*-admin$` backtracks for seconds on this ARN; the answer is false.
    const arn = `arn:aws:iam::111122223333:role/${'a/'.repeat(250)}x`;
    const glob = 'arn:aws:iam::*:*/*/*/*/*/*/*/*/*/*/*/*/*/*/*-admin';
    expect(globMatches(glob, arn)).toBe(false);
    expect(globMatches(glob, `${arn}-admin`)).toBe(true);
  });

  it('never matches an ARN longer than the accepted maximum', () => {
    const arn = `arn:aws:iam::1:role/${'a'.repeat(MAX_MATCHED_ARN_LENGTH)}`;
    expect(globMatches('*', arn)).toBe(false);
  });
});
