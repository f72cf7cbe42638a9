import 'aws-sdk-client-mock-vitest/extend';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyArn, parseKeyIdRef } from '../../../functions/domain/aws-key-ref.ts';
import type { ManagedKey } from '../../../functions/domain/managed-key.ts';
import type { UnreadableKey } from '../../../functions/domain/ports.ts';
import {
  AuthenticationError,
  NotFoundError,
  TimeoutError,
  UpstreamError,
  ValidationError,
} from '../../../functions/shared/errors.ts';
import {
  ACCOUNT,
  AWS_KEY_ID,
  CCKM_ID,
  createHarness,
  type Harness,
  type HarnessOptions,
  interceptTokens,
  JSON_HEADERS,
  keyRecord,
  lowerCased,
  makeJwt,
  numberedCckmId,
  PASSWORD,
  queryOf,
  REFRESH_TOKEN,
  REGION,
  SECRET_ID,
} from '../../helpers/cm-fakes.ts';

const KEY_PATH = `/api/v1/cckm/aws/keys/${CCKM_ID}`;
const T0 = Date.parse('2026-11-28T12:00:00Z');
const JWT = makeJwt({ sub: 'guard', iat: T0 / 1000, exp: T0 / 1000 + 300 }, 'first');
const JWT2 = makeJwt({ sub: 'guard', iat: T0 / 1000, exp: T0 / 1000 + 600 }, 'second');

let h: Harness;

/** A listed item that must be a key (the test gives no malformed record). */
function asKey(item: ManagedKey | UnreadableKey): ManagedKey {
  if ('unreadable' in item) throw new Error(`unexpected unreadable record: ${item.reason}`);
  return item;
}
function setup(options: HarnessOptions = {}): Harness {
  h = createHarness(options);
  return h;
}

afterEach(async () => {
  h.mockAgent.assertNoPendingInterceptors();
  h.sm.reset();
  await h.mockAgent.close();
});

/** Intercepts GET /keys/{id} expecting `jwt` as the bearer, answering `status` and `body`. */
function interceptKey(
  status: number,
  body: unknown = keyRecord(),
  jwt = JWT,
  headers: Record<string, string> = {},
) {
  return h.pool
    .intercept({
      path: KEY_PATH,
      method: 'GET',
      headers: (hs) => lowerCased(hs).authorization === `Bearer ${jwt}`,
    })
    .reply(status, typeof body === 'string' ? body : JSON.stringify(body), {
      headers: { ...JSON_HEADERS, ...headers },
    });
}

describe('tokens', () => {
  it('exchanges the refresh token (no renew) with domain and auth_domain, then calls with the bearer', async () => {
    setup({ secret: { refresh_token: REFRESH_TOKEN, domain: 'd1', auth_domain: 'root' } });
    h.pool
      .intercept({
        path: '/api/v1/auth/tokens',
        method: 'POST',
        body: (body) =>
          JSON.stringify(JSON.parse(body)) ===
          JSON.stringify({
            grant_type: 'refresh_token',
            refresh_token: REFRESH_TOKEN,
            domain: 'd1',
            auth_domain: 'root',
          }),
        headers: (hs) => {
          const l = lowerCased(hs);
          return (
            !('authorization' in l) &&
            l.accept === 'application/json' &&
            l['content-type'] === 'application/json'
          );
        },
      })
      .reply(200, { jwt: JWT, duration: 300 }, { headers: JSON_HEADERS });
    h.pool
      .intercept({
        path: KEY_PATH,
        method: 'GET',
        headers: (hs) => {
          const l = lowerCased(hs);
          return (
            l.authorization === `Bearer ${JWT}` && l.accept === 'application/json' && !('content-type' in l)
          );
        },
      })
      .reply(200, keyRecord(), { headers: JSON_HEADERS });

    const key = await h.client.getKey(CCKM_ID);

    expect(key).toMatchObject({
      cckmId: CCKM_ID,
      state: 'PendingDeletion',
      account: ACCOUNT,
      region: REGION,
    });
    expect(h.sm).toHaveReceivedCommandExactlyOnceWith(GetSecretValueCommand, { SecretId: SECRET_ID });
  });

  it('uses the password grant for username + password, labelling the refresh token and revoking it unused', async () => {
    setup({ secret: { username: 'guard', password: PASSWORD } });
    h.pool
      .intercept({
        path: '/api/v1/auth/tokens',
        method: 'POST',
        body: (body) =>
          JSON.stringify(JSON.parse(body)) ===
          JSON.stringify({
            grant_type: 'password',
            username: 'guard',
            password: PASSWORD,
            labels: ['cckm-deletion-guard'],
            refresh_token_revoke_unused_in: 60,
          }),
      })
      .reply(200, { jwt: JWT }, { headers: JSON_HEADERS });
    interceptKey(200);
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats().tokenGrants).toBe(1);
  });

  it.each([8, 32])(
    'mints one token and reads the secret once when %i concurrent calls get a 401 for the same token',
    async (n) => {
      setup();
      interceptTokens(h.pool, JWT);
      interceptKey(200);
      await h.client.getKey(CCKM_ID);
      interceptTokens(h.pool, JWT2);
      interceptKey(401, { codeDesc: 'NCERRUnauthorizedAccess' }).times(n);
      interceptKey(200, keyRecord(), JWT2).times(n);
      const keys = await Promise.all(Array.from({ length: n }, () => h.client.getKey(CCKM_ID)));
      expect(keys).toHaveLength(n);
      expect(h.client.stats()).toMatchObject({ tokenGrants: 2, secretReads: 2 });
      h.mockAgent.assertNoPendingInterceptors();
    },
  );

  it('uses a static token as it is, with no grant request', async () => {
    setup({ secret: { token: JWT } });
    interceptKey(200);
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats()).toMatchObject({ tokenGrants: 0, requests: 1, secretReads: 1 });
  });

  it('reuses the JWT until 30 s before its exp claim, then mints a new one', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(200).times(2);
    await h.client.getKey(CCKM_ID);
    h.advance(269_000); // 31 s before exp
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats().tokenGrants).toBe(1);

    h.advance(2_000); // 29 s before exp
    interceptTokens(h.pool, JWT2);
    interceptKey(200, keyRecord(), JWT2);
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats().tokenGrants).toBe(2);
  });

  it('falls back to duration when the JWT has no readable exp', async () => {
    setup();
    interceptTokens(h.pool, 'opaque-token', { duration: 120 });
    interceptKey(200, keyRecord(), 'opaque-token').times(2);
    await h.client.getKey(CCKM_ID);
    h.advance(89_000);
    await h.client.getKey(CCKM_ID);
    h.advance(2_000);
    interceptTokens(h.pool, JWT2);
    interceptKey(200, keyRecord(), JWT2);
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats().tokenGrants).toBe(2);
  });

  it('shares one in-flight token request between concurrent calls', async () => {
    setup();
    h.pool
      .intercept({ path: '/api/v1/auth/tokens', method: 'POST' })
      .reply(200, { jwt: JWT }, { headers: JSON_HEADERS })
      .delay(30);
    interceptKey(200).times(3);
    const keys = await Promise.all([
      h.client.getKey(CCKM_ID),
      h.client.getKey(CCKM_ID),
      h.client.getKey(CCKM_ID),
    ]);
    expect(keys).toHaveLength(3);
    expect(h.client.stats()).toMatchObject({ tokenGrants: 1, secretReads: 1, requests: 4 });
  });

  it('after a 401 drops the JWT, re-reads the secret, mints again and retries the call once', async () => {
    setup();
    h.sm
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ refresh_token: 'old-refresh' }) })
      .resolves({ SecretString: JSON.stringify({ refresh_token: REFRESH_TOKEN }) });
    h.pool
      .intercept({
        path: '/api/v1/auth/tokens',
        method: 'POST',
        body: (b) => JSON.parse(b).refresh_token === 'old-refresh',
      })
      .reply(200, { jwt: JWT }, { headers: JSON_HEADERS });
    interceptKey(401, { code: 5, codeDesc: 'NCERRUnauthorizedAccess: Token is expired by 50s' });
    h.pool
      .intercept({
        path: '/api/v1/auth/tokens',
        method: 'POST',
        body: (b) => JSON.parse(b).refresh_token === REFRESH_TOKEN,
      })
      .reply(200, { jwt: JWT2 }, { headers: JSON_HEADERS });
    interceptKey(200, keyRecord(), JWT2);

    await expect(h.client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(h.client.stats()).toMatchObject({ tokenGrants: 2, reauthentications: 1, requests: 4 });
  });

  it('fails with AuthenticationError when the retried call gets a second 401', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(401, { codeDesc: 'NCERRUnauthorizedAccess' });
    interceptTokens(h.pool, JWT2);
    interceptKey(401, { codeDesc: 'NCERRUnauthorizedAccess' }, JWT2);
    const call = h.client.getKey(CCKM_ID);
    await expect(call).rejects.toBeInstanceOf(AuthenticationError);
    await expect(call).rejects.toMatchObject({ errorKind: 'BadGateway', detail: { status: 401 } });
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it.each([401, 403])(
    'maps %i at /auth/tokens on a freshly read secret to AuthenticationError',
    async (status) => {
      setup();
      h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(status, {
        code: 5,
        codeDesc: 'NCERRUnauthorizedAccess',
        message: 'Wrong username or password.',
      });
      const call = h.client.getKey(CCKM_ID);
      await expect(call).rejects.toBeInstanceOf(AuthenticationError);
      await expect(call).rejects.toThrow(`refused the credentials in secret ${SECRET_ID}`);
      expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    },
  );

  it('re-reads a cached secret once when the grant is refused (the secret may have rotated)', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(200);
    await h.client.getKey(CCKM_ID);
    h.advance(290_000); // token due for refresh, secret still cached
    h.pool
      .intercept({ path: '/api/v1/auth/tokens', method: 'POST' })
      .reply(401, { codeDesc: 'NCERRUnauthorizedAccess' });
    interceptTokens(h.pool, JWT2);
    interceptKey(200, keyRecord(), JWT2);
    await h.client.getKey(CCKM_ID);
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('refuses a grant answer without a jwt', async () => {
    setup();
    h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(200, { token_type: 'Bearer' });
    await expect(h.client.getKey(CCKM_ID)).rejects.toThrow(/without a usable jwt/);
  });

  it('copies no text from a refused grant into the error: status and codeDesc name only', async () => {
    setup({ secret: { username: 'guard', password: PASSWORD } });
    h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(401, {
      codeDesc: `NCERRUnauthorizedAccess: bad password ${PASSWORD}`,
      message: `user guard with password ${PASSWORD} not found`,
    });
    const error = (await h.client.getKey(CCKM_ID).then(
      () => undefined,
      (e: unknown) => e,
    )) as AuthenticationError;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(JSON.stringify({ message: error.message, detail: error.detail })).not.toContain(PASSWORD);
    expect(error.detail).toEqual({ status: 401, codeDesc: 'NCERRUnauthorizedAccess' });
    expect(error.message).not.toContain('not found');
  });

  it('copies no text from a failed grant, however it is cut, on any status', async () => {
    setup();
    h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(500, {
      codeDesc: 'NCERRInternalServerError',
      message: `cannot parse refresh_token ${REFRESH_TOKEN}`,
    });
    const error = (await h.client.getKey(CCKM_ID).then(
      () => undefined,
      (e: unknown) => e,
    )) as UpstreamError;
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.detail).toEqual({ status: 500, codeDesc: 'NCERRInternalServerError' });
    expect(error.message).not.toContain('cannot parse');
    expect(JSON.stringify({ message: error.message, detail: error.detail })).not.toContain(REFRESH_TOKEN);
  });

  it('redacts a JWT and credential echoed by a key call before clipping, in raw and JSON-escaped forms', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const echo = `${'x'.repeat(400)} Authorization: Bearer ${JWT} body ${JSON.stringify(REFRESH_TOKEN)}`;
    interceptKey(500, { codeDesc: 'NCERRInternalServerError', message: echo });
    const error = (await h.client.getKey(CCKM_ID).catch((e: unknown) => e)) as UpstreamError;
    expect(error).toBeInstanceOf(UpstreamError);
    const text = JSON.stringify({ message: error.message, detail: error.detail });
    for (let i = 0; i + 8 <= JWT.length; i++) expect(text).not.toContain(JWT.slice(i, i + 8));
    expect(text).not.toContain(REFRESH_TOKEN.slice(0, 8));
    expect(error.detail.cmMessage).toContain('[redacted]');
  });

  it('never logs a token, refresh token, password or Authorization header', async () => {
    setup({ secret: { username: 'guard', password: PASSWORD } });
    h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(200, { jwt: JWT });
    interceptKey(401, { codeDesc: 'NCERRUnauthorizedAccess' });
    h.pool.intercept({ path: '/api/v1/auth/tokens', method: 'POST' }).reply(200, { jwt: JWT2 });
    h.pool.intercept({ path: KEY_PATH, method: 'GET' }).reply(503, { codeDesc: 'NCERRServiceUnavailable' });
    interceptKey(200, keyRecord(), JWT2);
    await h.client.getKey(CCKM_ID);
    const logged = JSON.stringify(
      [h.logger.debug, h.logger.info, h.logger.warn, h.logger.error].flatMap((fn) => fn.mock.calls),
    );
    expect(h.logger.warn).toHaveBeenCalled();
    expect(logged).toContain(KEY_PATH);
    for (const secret of [PASSWORD, JWT, JWT2, 'Bearer', 'authorization'])
      expect(logged).not.toContain(secret);
  });
});

describe('retries', () => {
  it('honours Retry-After on 429', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(429, { codeDesc: 'NCERRTooManyRequests' }, JWT, { 'retry-after': '2' });
    interceptKey(200);
    await h.client.getKey(CCKM_ID);
    expect(h.sleeps).toEqual([2000]);
    expect(h.client.stats().retries).toBe(1);
  });

  it('rides out a 502/503/504 burst with capped exponential backoff', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(502, '<html>bad gateway</html>');
    interceptKey(503, { codeDesc: 'NCERRServiceUnavailable' });
    interceptKey(504, '');
    interceptKey(200);
    await expect(h.client.getKey(CCKM_ID)).resolves.toMatchObject({ cckmId: CCKM_ID });
    expect(h.sleeps).toEqual([100, 200, 400]);
  });

  it('retries a connection reset', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: KEY_PATH, method: 'GET' })
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    interceptKey(200);
    await h.client.getKey(CCKM_ID);
    expect(h.client.stats()).toMatchObject({ retries: 1, requests: 3 });
  });

  it('gives up after 6 attempts with an UpstreamError carrying the last status and codeDesc', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(503, { code: 14, codeDesc: 'NCERRServiceUnavailable: node restarting' }).times(6);
    const call = h.client.getKey(CCKM_ID);
    await expect(call).rejects.toBeInstanceOf(UpstreamError);
    await expect(call).rejects.toMatchObject({
      detail: { status: 503, codeDesc: 'NCERRServiceUnavailable', cmMessage: 'node restarting' },
    });
    expect(h.sleeps).toHaveLength(5);
  });

  it('does not wait for a Retry-After beyond the budget', async () => {
    setup({ config: { timeoutMs: 5000 } });
    interceptTokens(h.pool, JWT);
    interceptKey(429, {}, JWT, { 'retry-after': '60' });
    await expect(h.client.getKey(CCKM_ID)).rejects.toMatchObject({ detail: { status: 429 } });
    expect(h.sleeps).toEqual([]);
  });

  it.each([
    [400, { codeDesc: 'NCERRBadRequest: Accept header is invalid.' }, UpstreamError],
    [404, { code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' }, NotFoundError],
    [409, { codeDesc: 'NCERRConflict' }, UpstreamError],
    [500, { code: 14, codeDesc: 'NCERRInternalServerError: unexpected error' }, UpstreamError],
  ])('does not retry %i', async (status, body, type) => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(status, body);
    await expect(h.client.getKey(CCKM_ID)).rejects.toBeInstanceOf(type);
    expect(h.client.stats()).toMatchObject({ requests: 2, retries: 0 });
  });

  it('reports a 500 with its codeDesc and message', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(500, { code: 14, codeDesc: 'NCERRInternalServerError: unexpected error' });
    await expect(h.client.getKey(CCKM_ID)).rejects.toThrow(
      `CipherTrust Manager failed GET ${KEY_PATH}: 500 NCERRInternalServerError unexpected error`,
    );
  });

  it('throws TimeoutError when CM does not answer within the budget', async () => {
    setup({ realTime: true, config: { timeoutMs: 150 } });
    interceptTokens(h.pool, JWT);
    interceptKey(200).delay(2000);
    // The reply is held for 2 s; only the 150 ms budget can turn the call into a TimeoutError.
    await expect(h.client.getKey(CCKM_ID)).rejects.toBeInstanceOf(TimeoutError);
    expect(h.client.stats().retries).toBe(0);
  });

  it('throws TimeoutError for a deadline already passed, without reading the secret or sending', async () => {
    setup();
    await expect(h.client.getKey(CCKM_ID, { deadline: h.now() - 1 })).rejects.toBeInstanceOf(TimeoutError);
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
    expect(h.client.stats()).toMatchObject({ secretReads: 0, requests: 0 });
  });

  it('keeps the budget within the caller deadline', async () => {
    setup({ realTime: true });
    interceptTokens(h.pool, JWT);
    interceptKey(200).delay(2000);
    await expect(h.client.getKey(CCKM_ID, { deadline: Date.now() + 100 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });
});

describe('response bodies', () => {
  it('reports a 403 on a key call as UpstreamError pointing at the CCKM ACLs, without re-authenticating', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(403, { codeDesc: 'NCERRForbidden' });
    const call = h.client.getKey(CCKM_ID);
    await expect(call).rejects.toThrow(/check the service account's CCKM ACLs/);
    await expect(call).rejects.not.toBeInstanceOf(AuthenticationError);
    expect(h.client.stats()).toMatchObject({ reauthentications: 0, tokenGrants: 1 });
  });

  it('treats a codeDesc on a 2xx as a failure', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(200, { code: 14, codeDesc: 'NCERRCryptoOperationFailed: nope' });
    await expect(h.client.getKey(CCKM_ID)).rejects.toMatchObject({
      name: 'UpstreamError',
      detail: { status: 200, codeDesc: 'NCERRCryptoOperationFailed', cmMessage: 'nope' },
    });
  });

  it.each([
    ['HTML', '<html>login</html>'],
    ['an empty body', ''],
    ['JSON that is not a key record', { id: 'not-a-uuid', region: REGION, aws_param: {} }],
  ])('refuses %s where a key record is expected', async (_, body) => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(200, body);
    await expect(h.client.getKey(CCKM_ID)).rejects.toBeInstanceOf(UpstreamError);
  });

  it('refuses a body over 5 MB', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(200, `{"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`);
    await expect(h.client.getKey(CCKM_ID)).rejects.toThrow(/larger than 5242880 bytes/);
  });

  it('does not follow a redirect', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptKey(302, '', JWT, { location: 'https://evil.example.com/steal' });
    await expect(h.client.getKey(CCKM_ID)).rejects.toMatchObject({ detail: { status: 302 } });
  });
});

describe('URL safety', () => {
  const hostile: [string, unknown][] = [
    ['dot-dot', '../auth/tokens'],
    ['encoded dot-dot', '%2e%2e'],
    ['encoded slash', `${CCKM_ID}%2F..%2F..`],
    ['a suffix path', `${CCKM_ID}/../../auth`],
    ['5,000 characters', 'a'.repeat(5000)],
    ['empty', ''],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a query', `${CCKM_ID}?x=1`],
  ];

  it.each(hostile)('refuses %s as a CCKM id in every key call, with zero requests', async (_, id) => {
    setup();
    const unsafe = id as string;
    await expect(h.client.getKey(unsafe)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.client.cancelDeletion(unsafe)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.client.enableKey(unsafe)).rejects.toBeInstanceOf(ValidationError);
    expect(h.client.stats()).toMatchObject({ requests: 0, secretReads: 0 });
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  it.each([
    ['a hostile keyId', { keyId: '../x', region: REGION }],
    ['an encoded keyId', { keyId: `${AWS_KEY_ID}%26region%3Dus-east-1`, region: REGION }],
    ['a hostile region', { keyId: AWS_KEY_ID, region: 'eu-west-1&keystate=Enabled' }],
    ['a bad account', { keyId: AWS_KEY_ID, region: REGION, account: '12' }],
    ['null', null],
  ])('refuses %s in findAwsKey with zero requests', async (_, ref) => {
    setup();
    await expect(h.client.findAwsKey(ref as never)).rejects.toBeInstanceOf(ValidationError);
    expect(h.client.stats().requests).toBe(0);
  });
});

describe('findAwsKey', () => {
  function interceptList(
    check: (q: URLSearchParams) => boolean,
    resources: unknown[],
    total = resources.length,
  ) {
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?') && check(queryOf(p)), method: 'GET' })
      .reply(200, { skip: 0, limit: 100, total, resources }, { headers: JSON_HEADERS });
  }
  const byKeyId = (q: URLSearchParams) =>
    q.get('keyid') === AWS_KEY_ID && q.get('region') === REGION && q.get('limit') === '100';

  it('returns the one record for the KeyId and Region', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [keyRecord()]);
    await expect(h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION })).resolves.toMatchObject({
      cckmId: CCKM_ID,
    });
  });

  it('looks a parsed ARN reference up by its KeyId, Region and account, as a plain one', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [
      keyRecord({ id: numberedCckmId(1), account: '999999999999' }),
      keyRecord({ id: numberedCckmId(2) }),
    ]);
    const ref = parseKeyArn(`arn:aws:kms:${REGION}:${ACCOUNT}:key/${AWS_KEY_ID}`);
    await expect(h.client.findAwsKey(ref)).resolves.toMatchObject({ cckmId: numberedCckmId(2) });
  });

  it('checks a copy of a parsed reference again: a hostile region in it is refused with zero requests', async () => {
    setup();
    const ref = parseKeyIdRef(AWS_KEY_ID, REGION);
    await expect(
      h.client.findAwsKey({ ...ref, region: 'eu-west-1&keystate=Enabled' }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(h.client.stats().requests).toBe(0);
  });

  it('returns undefined when CCKM has no record', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, []);
    await expect(h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION })).resolves.toBeUndefined();
  });

  it('ignores records whose KeyID or Region do not match, whatever the filter returned', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [
      keyRecord({ id: numberedCckmId(1), keyId: 'ffffffff-12ab-34cd-56ef-1234567890ab' }),
      keyRecord({ id: numberedCckmId(2), region: 'us-east-1' }),
      keyRecord({ id: numberedCckmId(3), keyId: AWS_KEY_ID.toUpperCase() }),
    ]);
    await expect(h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION })).resolves.toMatchObject({
      cckmId: numberedCckmId(3),
    });
  });

  it('narrows duplicates by account when the account is known', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [
      keyRecord({ id: numberedCckmId(1), account: '999999999999' }),
      keyRecord({ id: numberedCckmId(2) }),
    ]);
    await expect(
      h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION, account: ACCOUNT }),
    ).resolves.toMatchObject({ cckmId: numberedCckmId(2) });
  });

  it('fails naming the ids and KMS containers when several records remain', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [
      keyRecord({ id: numberedCckmId(1), kms: 'kms-a' }),
      keyRecord({ id: numberedCckmId(2), kms: 'kms-b' }),
    ]);
    const call = h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION, account: ACCOUNT });
    await expect(call).rejects.toBeInstanceOf(UpstreamError);
    await expect(call).rejects.toThrow(
      `CCKM holds more than one record for AWS key ${AWS_KEY_ID} in ${REGION}: ${numberedCckmId(1)} (kms kms-a), ${numberedCckmId(2)} (kms kms-b); the account does not tell them apart`,
    );
  });

  it('fails rather than guess when CCKM holds more matches than it sent', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptList(byKeyId, [keyRecord()], 2);
    const call = h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION });
    await expect(call).rejects.toBeInstanceOf(UpstreamError);
    await expect(call).rejects.toThrow(
      `CCKM holds more than one record for AWS key ${AWS_KEY_ID} in ${REGION}: ${CCKM_ID} (kms kms-main); the account does not tell them apart`,
    );
  });

  it('refuses a list envelope without resources', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply(200, { total: 'many' });
    await expect(h.client.findAwsKey({ keyId: AWS_KEY_ID, region: REGION })).rejects.toThrow(
      /malformed list/,
    );
  });
});

describe('listPendingDeletion', () => {
  function pageReply(
    all: Record<string, unknown>[],
    seen: URLSearchParams[],
    totalOf?: (page: number) => number,
  ) {
    return (opts: { path: string }) => {
      const q = queryOf(opts.path);
      seen.push(q);
      const skip = Number(q.get('skip'));
      const limit = Number(q.get('limit'));
      return {
        statusCode: 200,
        data: {
          skip,
          limit,
          total: totalOf ? totalOf(seen.length) : all.length,
          resources: all.slice(skip, skip + limit),
        },
        responseOptions: { headers: JSON_HEADERS },
      };
    };
  }

  it('reads every page with repeated keystate filters and yields each pending key once, by id', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const all = Array.from({ length: 250 }, (_, i) => keyRecord({ id: numberedCckmId(250 - i) }));
    const seen: URLSearchParams[] = [];
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply(pageReply(all, seen))
      .times(3);
    const pages: unknown[] = [];
    const keys: ManagedKey[] = [];
    for await (const key of h.client.listPendingDeletion({ onPage: (info) => pages.push(info) }))
      keys.push(asKey(key));

    expect(seen.map((q) => q.get('skip'))).toEqual(['0', '100', '200']);
    expect(seen.every((q) => q.getAll('keystate').join() === 'PendingDeletion,PendingReplicaDeletion')).toBe(
      true,
    );
    expect(seen.every((q) => q.get('limit') === '100')).toBe(true);
    expect(pages).toEqual([
      { page: 1, fetched: 100, total: 250 },
      { page: 2, fetched: 200, total: 250 },
      { page: 3, fetched: 250, total: 250 },
    ]);
    expect(keys.map((k) => k.cckmId)).toEqual(Array.from({ length: 250 }, (_, i) => numberedCckmId(i + 1)));
  });

  it('finishes listing before yielding, so cancels made while iterating cannot shift pages', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const all = Array.from({ length: 150 }, (_, i) => keyRecord({ id: numberedCckmId(i + 1) }));
    const seen: URLSearchParams[] = [];
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply(pageReply(all, seen))
      .times(2);
    let requestsAtFirstKey: number | undefined;
    let count = 0;
    for await (const _key of h.client.listPendingDeletion()) {
      requestsAtFirstKey ??= seen.length;
      all.shift(); // the consumer's cancel removes the key from the pending set
      count++;
    }
    expect(requestsAtFirstKey).toBe(2);
    expect(count).toBe(150);
  });

  it('lists again when the total changed during the listing, and keeps keys that moved', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const all = Array.from({ length: 150 }, (_, i) => keyRecord({ id: numberedCckmId(i + 1) }));
    const seen: URLSearchParams[] = [];
    const reply = pageReply(all, seen);
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply((opts) => {
        // After the first page someone else's cancel removes key 1: key 101 slides onto page 1.
        if (seen.length === 1) all.shift();
        return reply(opts);
      })
      .times(4);
    const keys: ManagedKey[] = [];
    for await (const key of h.client.listPendingDeletion()) keys.push(asKey(key));
    expect(seen.map((q) => q.get('skip'))).toEqual(['0', '100', '0', '100']);
    expect(new Set(keys.map((k) => k.cckmId)).size).toBe(150);
    expect(keys.map((k) => k.cckmId)).toContain(numberedCckmId(101));
  });

  it('drops records that are not pending deletion even if CM ignored the filter', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool.intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' }).reply(200, {
      total: 3,
      resources: [
        keyRecord({ id: numberedCckmId(1) }),
        keyRecord({ id: numberedCckmId(2), keyState: 'Enabled' }),
        keyRecord({ id: numberedCckmId(3), keyState: 'PendingReplicaDeletion' }),
      ],
    });
    const ids: string[] = [];
    for await (const key of h.client.listPendingDeletion()) ids.push(asKey(key).cckmId);
    expect(ids).toEqual([numberedCckmId(1), numberedCckmId(3)]);
  });

  it('stops at an empty page even when total promises more', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: (p) => queryOf(p).get('skip') === '0', method: 'GET' })
      .reply(200, { total: 500, resources: [keyRecord()] });
    h.pool
      .intercept({ path: (p) => queryOf(p).get('skip') === '1', method: 'GET' })
      .reply(200, { total: 500, resources: [] });
    const ids: string[] = [];
    for await (const key of h.client.listPendingDeletion()) ids.push(asKey(key).cckmId);
    expect(ids).toEqual([CCKM_ID]);
  });

  it('gives up with UpstreamError after the page cap instead of looping forever', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    let n = 0;
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply(() => ({
        statusCode: 200,
        data: { total: 1_000_000, resources: [keyRecord({ id: numberedCckmId(++n) })] },
      }))
      .times(200);
    const ids: string[] = [];
    const drain = async () => {
      for await (const key of h.client.listPendingDeletion()) ids.push(asKey(key).cckmId);
    };
    await expect(drain()).rejects.toThrow(/listing incomplete: .*more than 200 pages/);
    // What it read before the cap is handed over first, so a sweep decides it (contract section 4).
    expect(ids).toHaveLength(200);
    expect(ids[0]).toBe(numberedCckmId(1));
  });

  it('applies the page cap per pass: a set that moved is listed again in full', async () => {
    setup({ maxPages: 3 });
    interceptTokens(h.pool, JWT);
    // Pass 1 sees the total move (3, 4, 3); pass 2 reads 3 pages again and finds one key more.
    const pages: [number, number][] = [
      [3, 1],
      [4, 2],
      [3, 3],
      [3, 1],
      [3, 2],
      [3, 4],
    ];
    let n = 0;
    h.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' })
      .reply(() => {
        const [total, id] = pages[n++] ?? [0, 0];
        return { statusCode: 200, data: { total, resources: [keyRecord({ id: numberedCckmId(id) })] } };
      })
      .times(6);
    const ids: string[] = [];
    for await (const key of h.client.listPendingDeletion()) ids.push(asKey(key).cckmId);
    expect(ids).toEqual([1, 2, 3, 4].map(numberedCckmId));
    h.mockAgent.assertNoPendingInterceptors();
  });

  it.each([
    ['without an Arn', (r: Record<string, unknown>) => delete (r.aws_param as Record<string, unknown>).Arn],
    ['with a non-UUID id', (r: Record<string, unknown>) => Object.assign(r, { id: 'not-a-uuid' })],
    ['without aws_param', (r: Record<string, unknown>) => delete r.aws_param],
  ])(
    'hands over a record %s as unreadable, with its identity, and the others as keys',
    async (_what, spoil) => {
      setup();
      interceptTokens(h.pool, JWT);
      const bad = keyRecord({ id: numberedCckmId(2) });
      spoil(bad);
      h.pool.intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' }).reply(200, {
        total: 3,
        resources: [keyRecord({ id: numberedCckmId(1) }), bad, keyRecord({ id: numberedCckmId(3) })],
      });
      const items = [];
      for await (const item of h.client.listPendingDeletion()) items.push(item);
      expect(items.filter((i) => !('unreadable' in i)).map((i) => (i as { cckmId: string }).cckmId)).toEqual([
        numberedCckmId(1),
        numberedCckmId(3),
      ]);
      const unreadable = items.filter((i) => 'unreadable' in i);
      expect(unreadable).toEqual([
        {
          unreadable: true,
          identity: expect.objectContaining({ cckmId: bad.id, region: REGION }),
          reason: expect.stringContaining('could not be read'),
        },
      ]);
    },
  );

  it("takes an unreadable record's account and Region from its ARN when its own fields lack them", async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const bad = keyRecord({ id: 'not-a-uuid' }) as Record<string, unknown>;
    const param = bad.aws_param as Record<string, unknown>;
    delete param.AWSAccountId;
    delete bad.region;
    h.pool.intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' }).reply(200, {
      total: 1,
      resources: [bad],
    });
    const items = [];
    for await (const item of h.client.listPendingDeletion()) items.push(item);
    const [, , , region, account] = String(param.Arn).split(':');
    expect(items).toEqual([
      expect.objectContaining({ unreadable: true, identity: expect.objectContaining({ account, region }) }),
    ]);
  });

  it('reports two unreadable records with neither id nor ARN as two', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    const spoiled = () => {
      const r = keyRecord({ id: 'not-a-uuid' }) as Record<string, unknown>;
      delete r.id;
      delete (r.aws_param as Record<string, unknown>).Arn;
      return r;
    };
    h.pool.intercept({ path: (p) => p.startsWith('/api/v1/cckm/aws/keys?'), method: 'GET' }).reply(200, {
      total: 2,
      resources: [spoiled(), spoiled()],
    });
    const items = [];
    for await (const item of h.client.listPendingDeletion()) items.push(item);
    expect(items.filter((i) => 'unreadable' in i)).toHaveLength(2);
  });

  it('hands over the keys of the pages it read before a failed page, then throws', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool.intercept({ path: (p) => queryOf(p).get('skip') === '0', method: 'GET' }).reply(200, {
      total: 3,
      resources: [keyRecord({ id: numberedCckmId(2) }), keyRecord({ id: numberedCckmId(1) })],
    });
    h.pool
      .intercept({ path: (p) => queryOf(p).get('skip') === '2', method: 'GET' })
      .reply(500, { code: 1, codeDesc: 'NCERRInternalServerError' }, { headers: JSON_HEADERS });
    const ids: string[] = [];
    const drain = async () => {
      for await (const key of h.client.listPendingDeletion()) ids.push(asKey(key).cckmId);
    };
    await expect(drain()).rejects.toBeInstanceOf(UpstreamError);
    expect(ids).toEqual([numberedCckmId(1), numberedCckmId(2)]);
  });
});

describe('cancelDeletion and enableKey', () => {
  const CANCEL = `${KEY_PATH}/cancel-deletion`;
  function interceptCancel(status: number, body: unknown) {
    h.pool
      .intercept({
        path: CANCEL,
        method: 'POST',
        body: (b) => b === '' || b === undefined || b === null,
        headers: (hs) =>
          !('content-type' in lowerCased(hs)) && lowerCased(hs).authorization === `Bearer ${JWT}`,
      })
      .reply(status, typeof body === 'string' ? body : JSON.stringify(body));
  }

  it('returns cancelled with the key record CM answered', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(200, keyRecord({ keyState: 'Disabled' }));
    const result = await h.client.cancelDeletion(CCKM_ID);
    expect(result.outcome).toBe('cancelled');
    expect(result.key?.state).toBe('Disabled');
  });

  it('returns cancelled without a key when CM answers a message', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(200, { message: 'ok' });
    await expect(h.client.cancelDeletion(CCKM_ID)).resolves.toEqual({ outcome: 'cancelled' });
  });

  it.each([
    [
      400,
      {
        codeDesc: 'NCERRBadRequest',
        message: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${AWS_KEY_ID} is not pending deletion`,
      },
    ],
    [409, { codeDesc: 'NCERRConflict: KMSInvalidStateException: key is not pending deletion' }],
    [
      500,
      {
        codeDesc: 'NCERRInternalServerError',
        message: 'KMSInvalidStateException: k is not pending deletion',
      },
    ],
    [200, { codeDesc: 'NCERRCryptoOperationFailed: ... is not pending deletion.' }],
  ])('maps a %i saying the key is not pending deletion to not-pending', async (status, body) => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(status, body);
    await expect(h.client.cancelDeletion(CCKM_ID)).resolves.toEqual({ outcome: 'not-pending' });
  });

  it.each([
    ['is pending deletion', 'KMSInvalidStateException: arn:aws:kms:eu-west-1:1:key/k is pending deletion.'],
    ['is pending import', 'KMSInvalidStateException: arn:aws:kms:eu-west-1:1:key/k is pending import.'],
    ['names a state', 'KMSInvalidStateException: Key state is Enabled, not pending'],
  ])('reads a KMSInvalidStateException that %s as a failure, not as not-pending', async (_what, message) => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(400, { codeDesc: 'NCERRBadRequest', message });
    await expect(h.client.cancelDeletion(CCKM_ID)).rejects.toBeInstanceOf(UpstreamError);
  });

  it('does not read an unrelated failure as not-pending', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(400, { codeDesc: 'NCERRBadRequest', message: 'AccessDeniedException' });
    await expect(h.client.cancelDeletion(CCKM_ID)).rejects.toBeInstanceOf(UpstreamError);
  });

  it('maps 404 to NotFoundError', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    interceptCancel(404, { code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' });
    await expect(h.client.cancelDeletion(CCKM_ID)).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    [404, { code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' }, NotFoundError],
    [500, { codeDesc: 'NCERRInternalServerError', message: 'KMSInternalException' }, UpstreamError],
  ])('maps a %i on enable to its error', async (status, body, type) => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool.intercept({ path: `${KEY_PATH}/enable`, method: 'POST' }).reply(status, JSON.stringify(body));
    await expect(h.client.enableKey(CCKM_ID)).rejects.toBeInstanceOf(type);
  });

  it('enables the key with a bodiless POST and returns the record', async () => {
    setup();
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({
        path: `${KEY_PATH}/enable`,
        method: 'POST',
        headers: (hs) => !('content-type' in lowerCased(hs)),
      })
      .reply(200, keyRecord({ keyState: 'Enabled' }));
    await expect(h.client.enableKey(CCKM_ID)).resolves.toMatchObject({ state: 'Enabled' });
  });
});

describe('client creation', () => {
  it('warns loudly when TLS verification is off', () => {
    setup({ config: { tlsInsecure: true } });
    expect(h.logger.warn).toHaveBeenCalledWith(expect.stringContaining('CCKM_TLS_INSECURE=true'));
  });

  it('does not warn with TLS verification on', () => {
    setup();
    expect(h.logger.warn).not.toHaveBeenCalled();
  });
});
