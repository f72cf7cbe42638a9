import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/shared/errors.ts';

describe('remediation policy variables', () => {
  it('treats an empty MODE or REENABLE as the default, like the other policy variables', async () => {
    const { parsePolicyConfig } = await import('../../functions/shared/config.ts');
    expect(
      parsePolicyConfig({ MODE: '', REENABLE: ' ', ALLOWED_PRINCIPALS: '', EXEMPT_TAG: '' }),
    ).toMatchObject({
      mode: 'remediate',
      reenable: 'if-previously-enabled',
      allowedPrincipals: [],
      exemptTag: { key: 'deletion-guard:exempt', value: 'true' },
    });
  });

  it('still refuses an unknown MODE, naming the variable', async () => {
    const { parsePolicyConfig } = await import('../../functions/shared/config.ts');
    expect(() => parsePolicyConfig({ MODE: 'audit' })).toThrow(ConfigError);
    expect(() => parsePolicyConfig({ MODE: 'audit' })).toThrow(/MODE must be remediate or detect/);
  });
});
