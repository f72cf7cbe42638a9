import 'aws-sdk-client-mock-vitest/extend';
import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretSource, parseSecret } from '../../../functions/adapters/credentials.ts';
import { ConfigError, UpstreamError } from '../../../functions/shared/errors.ts';

const VALUE = 'V4LUE-do-not-echo-8c1f';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('parseSecret', () => {
  it('reads a refresh token with its optional domain, auth_domain and ca_cert, ignoring unknown fields', () => {
    const secret = parseSecret(
      JSON.stringify({ refresh_token: VALUE, domain: 'd1', auth_domain: 'root', ca_cert: PEM, note: 'x' }),
    );
    expect(secret).toEqual({
      credential: { type: 'refresh_token', refreshToken: VALUE },
      domain: 'd1',
      authDomain: 'root',
      caCert: PEM,
    });
  });

  it('reads username and password as a password credential', () => {
    expect(parseSecret(JSON.stringify({ username: 'guard', password: VALUE })).credential).toEqual({
      type: 'password',
      username: 'guard',
      password: VALUE,
    });
  });

  it('reads a static token', () => {
    expect(parseSecret(JSON.stringify({ token: VALUE })).credential).toEqual({ type: 'token', token: VALUE });
  });

  it.each([
    ['not JSON', `{"refresh_token": "${VALUE}"`, /not valid JSON/],
    ['a JSON string', JSON.stringify(VALUE), /JSON object/],
    ['a JSON array', JSON.stringify([VALUE]), /JSON object/],
    ['null', 'null', /JSON object/],
    ['no credential', JSON.stringify({ domain: VALUE }), /no credential/],
    [
      'refresh_token and token',
      JSON.stringify({ refresh_token: VALUE, token: VALUE }),
      /more than one.*refresh_token, token/,
    ],
    [
      'refresh_token and username+password',
      JSON.stringify({ refresh_token: VALUE, username: 'u', password: VALUE }),
      /more than one.*refresh_token, username\+password/,
    ],
    ['username without password', JSON.stringify({ username: VALUE }), /password is missing/],
    ['password without username', JSON.stringify({ password: VALUE }), /username is missing/],
    [
      'an empty refresh_token',
      JSON.stringify({ refresh_token: '' }),
      /refresh_token must be a non-empty string/,
    ],
    [
      'a numeric password',
      JSON.stringify({ username: 'u', password: 12345678 }),
      /password must be a non-empty string/,
    ],
    [
      'a token with a line break',
      JSON.stringify({ token: `${VALUE}\r\nX-Evil: 1` }),
      /token contains characters/,
    ],
    [
      'a ca_cert that is not PEM',
      JSON.stringify({ refresh_token: 'r', ca_cert: VALUE }),
      /ca_cert must be a PEM/,
    ],
    [
      'a numeric domain',
      JSON.stringify({ refresh_token: 'r', domain: 42 }),
      /domain must be a non-empty string/,
    ],
  ])('refuses %s with a ConfigError that names the problem but no value', (_, input, message) => {
    let caught: unknown;
    try {
      parseSecret(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const text = String((caught as Error).message);
    expect(text).toMatch(message);
    expect(text).not.toContain(VALUE.slice(0, 4));
    expect((caught as Error).cause).toBeUndefined();
  });
});

describe('createSecretSource', () => {
  const sm = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  afterEach(() => sm.reset());

  function clock() {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }

  it('caches the secret for at most 5 minutes', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'cckm/x' }).resolves({
      SecretString: JSON.stringify({ token: 't' }),
    });
    const c = clock();
    const source = createSecretSource(client, 'cckm/x', { now: c.now, ttlMs: 3_600_000 });
    await source.get();
    c.advance(299_999);
    await source.get();
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    c.advance(1);
    await source.get();
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(source.reads).toBe(2);
  });

  it('reads again after invalidate()', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ token: 'old' }) })
      .resolves({ SecretString: JSON.stringify({ token: 'new' }) });
    const source = createSecretSource(client, 'cckm/x');
    expect((await source.get()).credential).toEqual({ type: 'token', token: 'old' });
    source.invalidate();
    expect((await source.get()).credential).toEqual({ type: 'token', token: 'new' });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('shares one read between concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 't' }) });
    const source = createSecretSource(client, 'cckm/x');
    await Promise.all([source.get(), source.get(), source.get()]);
    expect(sm).toHaveReceivedCommandExactlyOnceWith(GetSecretValueCommand, { SecretId: 'cckm/x' });
  });

  const awsError = (name: string) => Object.assign(new Error(`${name}: boom`), { name });
  it.each([
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'gone', $metadata: {} })],
    ['AccessDeniedException', awsError('AccessDeniedException')],
    ['DecryptionFailure', new DecryptionFailure({ message: 'kms', $metadata: {} })],
  ])('turns %s into a ConfigError naming the secret and the AWS error', async (name, error) => {
    sm.on(GetSecretValueCommand).rejects(error);
    const source = createSecretSource(client, 'cckm/x');
    const failure = source.get();
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(`Cannot read Secrets Manager secret cckm/x: ${name}`);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it.each([
    ['ThrottlingException', awsError('ThrottlingException')],
    ['InternalServiceError', new InternalServiceError({ message: 'oops', $metadata: {} })],
    ['a network failure', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('turns %s into an UpstreamError', async (_, error) => {
    sm.on(GetSecretValueCommand).rejects(error);
    const source = createSecretSource(client, 'cckm/x');
    await expect(source.get()).rejects.toBeInstanceOf(UpstreamError);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('refuses a secret that only has SecretBinary', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const source = createSecretSource(client, 'cckm/x');
    await expect(source.get()).rejects.toThrow(/SecretBinary; a JSON SecretString is required/);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('does not cache a secret that failed to parse', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: '{}' })
      .resolves({ SecretString: JSON.stringify({ token: 't' }) });
    const source = createSecretSource(client, 'cckm/x');
    await expect(source.get()).rejects.toBeInstanceOf(ConfigError);
    await expect(source.get()).resolves.toMatchObject({ credential: { type: 'token' } });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });
});
