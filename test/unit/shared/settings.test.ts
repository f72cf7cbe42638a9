import { describe, expect, it } from 'vitest';
import {
  checkExemptTag,
  checkHttpsOrigin,
  checkMode,
  checkReenable,
  checkScope,
  DEFAULT_EXEMPT_TAG,
  given,
  isPrincipalPattern,
  MAX_PRINCIPAL_STARS,
  PRINCIPAL_PATTERN_DESCRIPTION,
} from '../../../functions/shared/settings.ts';

describe('shared settings rules', () => {
  it('uses the defaults for a blank value and names the setting in each problem', () => {
    expect(checkMode('  ', 'MODE')).toEqual({ ok: true, value: 'remediate' });
    expect(checkReenable(undefined, 'reenable')).toEqual({ ok: true, value: 'if-previously-enabled' });
    expect(checkExemptTag('', 'X')).toEqual({
      ok: true,
      value: { key: 'deletion-guard:exempt', value: 'true' },
    });
    expect(DEFAULT_EXEMPT_TAG).toBe('deletion-guard:exempt=true');
    expect(checkMode('fix', 'mode')).toEqual({ ok: false, problem: 'mode must be remediate or detect' });
    expect(checkReenable('x', 'REENABLE')).toEqual({
      ok: false,
      problem: 'REENABLE must be never, always or if-previously-enabled',
    });
    expect(checkExemptTag('=v', 'exemptTag')).toEqual({
      ok: false,
      problem: 'exemptTag must be key=value, e.g. deletion-guard:exempt=true',
    });
  });

  it('accepts an https origin only, quoting an unparseable value only when asked', () => {
    expect(checkHttpsOrigin(' https://cm.example.com:8443/ ', 'u')).toEqual({
      ok: true,
      value: 'https://cm.example.com:8443',
    });
    expect(checkHttpsOrigin('cm.example.com', 'u')).toEqual({
      ok: false,
      problem: 'u must be an https:// URL such as https://cm.example.com',
    });
    expect(checkHttpsOrigin('cm.example.com', 'u', { echo: true })).toMatchObject({
      problem: expect.stringContaining('(got "cm.example.com")'),
    });
    expect(checkHttpsOrigin('http://cm.example.com', 'u')).toMatchObject({ ok: false });
    expect(checkHttpsOrigin('https://cm.example.com/?a=1', 'u')).toMatchObject({ ok: false });
  });

  it('accepts IAM and STS ARN patterns with wildcards, and * alone', () => {
    expect(isPrincipalPattern('arn:aws:iam::111122223333:role/Admin*')).toBe(true);
    expect(isPrincipalPattern('arn:*:sts::*:assumed-role/Ops/*')).toBe(true);
    expect(isPrincipalPattern('*')).toBe(true);
    expect(isPrincipalPattern('arn:aws:s3:::bucket')).toBe(false);
  });

  it('accepts a pattern with 16 * and refuses one with 17, so matching stays linear', () => {
    const stars = (n: number) => `arn:aws:iam::*:role/${'*'.repeat(n - 1)}`;
    expect(isPrincipalPattern(stars(MAX_PRINCIPAL_STARS))).toBe(true);
    expect(isPrincipalPattern(stars(MAX_PRINCIPAL_STARS + 1))).toBe(false);
    expect(PRINCIPAL_PATTERN_DESCRIPTION).toContain(`at most ${MAX_PRINCIPAL_STARS}`);
  });
});

describe('blank values and scopes', () => {
  it('reads a blank or missing value as none, and any other value trimmed', () => {
    expect([undefined, '', '  \t'].map(given)).toEqual([undefined, undefined, undefined]);
    expect(given('  remediate ')).toBe('remediate');
    expect(given(' 0 ')).toBe('0');
  });

  it('reads a blank scope, * alone or * repeated as every account', () => {
    for (const raw of [undefined, '', ' , ', '*', ' * ', '*,*', '*, ,*']) {
      expect(checkScope(raw, 'SCOPE_ACCOUNTS', 'accounts')).toEqual({ ok: true, value: '*' });
    }
  });

  it('refuses * mixed with names, and keeps a list without repeats in order', () => {
    expect(checkScope('*,111122223333', 'SCOPE_ACCOUNTS', 'accounts')).toEqual({
      ok: false,
      problem: 'SCOPE_ACCOUNTS is either * or a list of 12-digit account ids, not both',
    });
    expect(checkScope('eu-west-1, us-east-1,eu-west-1', 'SCOPE_REGIONS', 'regions')).toEqual({
      ok: true,
      value: ['eu-west-1', 'us-east-1'],
    });
  });
});
