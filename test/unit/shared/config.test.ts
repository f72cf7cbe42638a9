import { describe, expect, it } from 'vitest';
import {
  metricsEnabledIn,
  parseConnectionConfig,
  parseLedgerConfig,
  parsePolicyConfig,
  requireConfig,
} from '../../../functions/shared/config.ts';
import { ConfigError } from '../../../functions/shared/errors.ts';

const base = { CCKM_URL: 'https://cm.example.com', CCKM_SECRET_ID: 'cckm/deletion-guard' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConnectionConfig', () => {
  it('applies the contract defaults', () => {
    expect(parseConnectionConfig(base)).toEqual({
      cckmUrl: 'https://cm.example.com',
      secretId: 'cckm/deletion-guard',
      tlsInsecure: false,
      timeoutMs: 8000,
    });
  });

  it('keeps an explicit port and drops a trailing slash', () => {
    expect(parseConnectionConfig({ ...base, CCKM_URL: 'https://10.0.0.5:8443/' }).cckmUrl).toBe(
      'https://10.0.0.5:8443',
    );
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parseConnectionConfig(base))).toBe(true);
  });

  it.each([
    [{ CCKM_SECRET_ID: 'x' }, 'CCKM_URL'],
    [{ ...base, CCKM_URL: 'http://cm.example.com' }, 'CCKM_URL must use https://'],
    [{ ...base, CCKM_URL: 'cm.example.com' }, 'CCKM_URL'],
    [{ ...base, CCKM_URL: 'https://cm.example.com/api/v1' }, 'CCKM_URL must be an origin only'],
    [{ ...base, CCKM_URL: 'https://user:pw@cm.example.com' }, 'CCKM_URL must be an origin only'],
    [{ CCKM_URL: base.CCKM_URL }, 'CCKM_SECRET_ID'],
    [{ ...base, CCKM_SECRET_ID: '  ' }, 'CCKM_SECRET_ID'],
    [{ ...base, CCKM_TLS_INSECURE: 'yes' }, 'CCKM_TLS_INSECURE'],
    [{ ...base, CCKM_TIMEOUT_MS: 'soon' }, 'CCKM_TIMEOUT_MS'],
    [{ ...base, CCKM_TIMEOUT_MS: '50' }, 'CCKM_TIMEOUT_MS'],
    [{ ...base, CCKM_TIMEOUT_MS: '1.5' }, 'CCKM_TIMEOUT_MS'],
  ])('refuses %j with an error naming %s', (env, expected) => {
    expect(configError(() => parseConnectionConfig(env)).message).toContain(expected);
  });

  it('names every bad variable at once and never echoes a value', () => {
    const error = configError(() =>
      parseConnectionConfig({ CCKM_URL: 'http://secret-host.example', CCKM_TIMEOUT_MS: 'hunter2' }),
    );
    expect(error.message).toContain('CCKM_URL');
    expect(error.message).toContain('CCKM_SECRET_ID');
    expect(error.message).toContain('CCKM_TIMEOUT_MS');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('secret-host');
  });

  it('reads CCKM_TLS_INSECURE and CCKM_TIMEOUT_MS', () => {
    const config = parseConnectionConfig({ ...base, CCKM_TLS_INSECURE: 'TRUE', CCKM_TIMEOUT_MS: '2500' });
    expect(config.tlsInsecure).toBe(true);
    expect(config.timeoutMs).toBe(2500);
  });

  it('reads CCKM_TLS_INSECURE missing or empty as false, and refuses a blank one', () => {
    expect(parseConnectionConfig(base).tlsInsecure).toBe(false);
    expect(parseConnectionConfig({ ...base, CCKM_TLS_INSECURE: '' }).tlsInsecure).toBe(false);
    expect(parseConnectionConfig({ ...base, CCKM_TLS_INSECURE: ' False ' }).tlsInsecure).toBe(false);
    expect(() => parseConnectionConfig({ ...base, CCKM_TLS_INSECURE: '  ' })).toThrow(
      'CCKM_TLS_INSECURE must be true or false',
    );
  });
});

describe('parsePolicyConfig', () => {
  it('applies the contract defaults', () => {
    expect(parsePolicyConfig({})).toEqual({
      mode: 'remediate',
      reenable: 'if-previously-enabled',
      allowedPrincipals: [],
      exemptTag: { key: 'deletion-guard:exempt', value: 'true' },
      notifyTopicArn: undefined,
    });
  });

  it('parses every variable', () => {
    const policy = parsePolicyConfig({
      MODE: 'detect',
      REENABLE: 'always',
      ALLOWED_PRINCIPALS: ' arn:aws:iam::111122223333:role/KeyAdmin , arn:aws:iam::*:role/Break-Glass-* ',
      EXEMPT_TAG: 'lifecycle=ephemeral',
      NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:guard',
    });
    expect(policy).toEqual({
      mode: 'detect',
      reenable: 'always',
      allowedPrincipals: ['arn:aws:iam::111122223333:role/KeyAdmin', 'arn:aws:iam::*:role/Break-Glass-*'],
      exemptTag: { key: 'lifecycle', value: 'ephemeral' },
      notifyTopicArn: 'arn:aws:sns:us-east-1:111122223333:guard',
    });
  });

  it.each([
    [{ MODE: 'fix' }, 'MODE'],
    [{ REENABLE: 'sometimes' }, 'REENABLE'],
    [{ ALLOWED_PRINCIPALS: 'alice' }, 'ALLOWED_PRINCIPALS'],
    [{ ALLOWED_PRINCIPALS: `arn:aws:iam::*:role/${'*/'.repeat(16)}x` }, 'ALLOWED_PRINCIPALS'],
    [{ EXEMPT_TAG: 'no-equals-sign' }, 'EXEMPT_TAG'],
    [{ EXEMPT_TAG: '=value' }, 'EXEMPT_TAG'],
    [{ NOTIFY_TOPIC_ARN: 'guard-topic' }, 'NOTIFY_TOPIC_ARN'],
  ])('refuses %j with an error naming %s', (env, expected) => {
    expect(configError(() => parsePolicyConfig(env)).message).toContain(expected);
  });
});

describe('parseLedgerConfig', () => {
  it('has no ledger when LEDGER_TABLE is absent or empty, and takes a table name as given', () => {
    expect(parseLedgerConfig({})).toEqual({ tableName: undefined });
    expect(parseLedgerConfig({ LEDGER_TABLE: ' ' })).toEqual({ tableName: undefined });
    expect(parseLedgerConfig({ LEDGER_TABLE: 'Guard-Ledger_1.a' })).toEqual({
      tableName: 'Guard-Ledger_1.a',
    });
  });

  it.each(['ab', 'a b c', 'arn:aws:dynamodb:us-east-1:111122223333:table/x', 'x'.repeat(256)])(
    'refuses LEDGER_TABLE=%s with an error naming it',
    (value) => {
      expect(configError(() => parseLedgerConfig({ LEDGER_TABLE: value })).message).toContain('LEDGER_TABLE');
    },
  );
});

describe('requireConfig', () => {
  it('returns the value of a loaded config and throws the error of a failed one', () => {
    expect(requireConfig({ ok: true, value: 42 })).toBe(42);
    const error = new ConfigError('CCKM_URL is required');
    expect(() => requireConfig({ ok: false, error })).toThrow(error);
  });
});

describe('metricsEnabledIn', () => {
  it.each([
    [{}, true],
    [{ POWERTOOLS_METRICS_DISABLED: 'true' }, false],
    [{ POWERTOOLS_METRICS_DISABLED: 'YES' }, false],
    [{ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' }, true],
    [{ POWERTOOLS_DEV: 'on' }, false],
    [{ POWERTOOLS_DEV: '0' }, true],
    // Powertools throws at import here; the guard keeps writing the data its alarms read.
    [{ POWERTOOLS_METRICS_DISABLED: 'maybe' }, true],
  ])('decides %o as metrics %s', (env, enabled) => {
    expect(metricsEnabledIn(env)).toBe(enabled);
  });
});
