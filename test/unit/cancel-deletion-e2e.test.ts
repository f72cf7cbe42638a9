import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCancelDeletionHandler } from '../../functions/cancel-deletion.ts';
import { ROUTES } from '../../functions/domain/cancel-request.ts';
import { logger } from '../../functions/shared/logger.ts';
import {
  CCKM_ID,
  createHarness,
  type Harness,
  interceptTokens,
  JSON_HEADERS,
  keyRecord,
  makeJwt,
  REFRESH_TOKEN,
  SECRET_ID,
} from '../helpers/cm-fakes.ts';
import { apiEvent, captureOutput, lambdaContext } from '../helpers/lambda.ts';
import 'aws-sdk-client-mock-vitest/extend';

const KEY_PATH = `/api/v1/cckm/aws/keys/${CCKM_ID}`;
// Far-future expiry so the harness clock never ages it out.
const JWT = makeJwt({ exp: Math.floor(Date.parse('2026-11-28T13:00:00Z') / 1000) }, 'JWT-SECRET-SIGNATURE');

let h: Harness;
let output: ReturnType<typeof captureOutput>;

beforeEach(() => {
  output = captureOutput();
  h = createHarness();
});

afterEach(async () => {
  output.restore();
  h.sm.restore();
  try {
    // Every interceptor a test sets up must have been used: a call the handler skipped is a failure.
    h.mockAgent.assertNoPendingInterceptors();
  } finally {
    await h.mockAgent.close();
  }
});

function handler() {
  return createCancelDeletionHandler({ cckm: () => h.client, logger, now: h.now });
}

function authorized(headers: unknown): boolean {
  return JSON.stringify(headers).includes(`Bearer ${JWT}`);
}

describe('cancel-deletion handler with the real CipherTrust Manager client', () => {
  it('reads the secret, mints a token, cancels, and answers 200; a repeat is not-pending', async () => {
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: KEY_PATH, method: 'GET', headers: authorized })
      .reply(200, keyRecord(), { headers: JSON_HEADERS });
    h.pool
      .intercept({ path: `${KEY_PATH}/cancel-deletion`, method: 'POST', headers: authorized })
      .reply(200, keyRecord({ keyState: 'Disabled' }), { headers: JSON_HEADERS });
    const first = await handler()(apiEvent(ROUTES.byId, { id: CCKM_ID }), lambdaContext());
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ id: CCKM_ID, outcome: 'cancelled', keyState: 'Disabled' });

    h.pool
      .intercept({ path: KEY_PATH, method: 'GET' })
      .reply(200, keyRecord({ keyState: 'Disabled' }), { headers: JSON_HEADERS });
    h.pool.intercept({ path: `${KEY_PATH}/cancel-deletion`, method: 'POST' }).reply(
      400,
      {
        code: 7,
        codeDesc: 'NCERRBadRequest',
        message: `KMSInvalidStateException: arn:aws:kms:eu-west-1:111122223333:key/x is not pending deletion.`,
      },
      { headers: JSON_HEADERS },
    );
    const again = await handler()(apiEvent(ROUTES.byId, { id: CCKM_ID }), lambdaContext());
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ outcome: 'not-pending', keyState: 'Disabled' });

    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(h.sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID });
    h.mockAgent.assertNoPendingInterceptors();
  });

  it('answers 404 when CipherTrust Manager does not know the id', async () => {
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: KEY_PATH, method: 'GET' })
      .reply(
        404,
        { code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found' },
        { headers: JSON_HEADERS },
      );
    const response = await handler()(apiEvent(ROUTES.byId, { id: CCKM_ID }), lambdaContext());
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error).toBe('NotFound');
    h.mockAgent.assertNoPendingInterceptors();
  });

  it('answers 502 when CipherTrust Manager refuses the credentials', async () => {
    h.pool
      .intercept({ path: '/api/v1/auth/tokens', method: 'POST' })
      .reply(401, { code: 5, codeDesc: 'NCERRUnauthorizedAccess', message: 'Wrong username or password.' });
    const response = await handler()(apiEvent(ROUTES.byId, { id: CCKM_ID }), lambdaContext());
    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body).error).toBe('BadGateway');
    // The secret was read fresh for this grant, so a refusal is final: no second read, no retry storm.
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    h.mockAgent.assertNoPendingInterceptors();
  });

  it('answers 502 after retries when CipherTrust Manager keeps failing with 503', async () => {
    interceptTokens(h.pool, JWT);
    h.pool
      .intercept({ path: KEY_PATH, method: 'GET' })
      .reply(
        503,
        { code: 14, codeDesc: 'NCERRInternalServerError: node restarting' },
        { headers: JSON_HEADERS },
      )
      .times(6);
    const response = await handler()(apiEvent(ROUTES.byId, { id: CCKM_ID }), lambdaContext());
    expect(response.statusCode).toBe(502);
    expect(h.sleeps.length).toBe(5);
    h.mockAgent.assertNoPendingInterceptors();
  });

  it('refuses hostile ids without reading the secret or sending a request', async () => {
    for (const id of ['../../auth/tokens', '%2e%2e%2f%2e%2e', `${CCKM_ID}%2Fenable`, 'a'.repeat(5000), '']) {
      const response = await handler()(apiEvent(ROUTES.byId, { id }), lambdaContext());
      expect(response.statusCode).toBe(400);
    }
    expect(h.sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
    expect(h.client.stats().requests).toBe(0);
  });

  it('never writes a credential, token or Authorization header to the log', async () => {
    logger.setLogLevel('DEBUG');
    try {
      interceptTokens(h.pool, JWT);
      h.pool.intercept({ path: KEY_PATH, method: 'GET' }).reply(200, keyRecord(), { headers: JSON_HEADERS });
      h.pool
        .intercept({ path: `${KEY_PATH}/cancel-deletion`, method: 'POST' })
        .reply(502, 'bad gateway', { headers: { 'content-type': 'text/plain' } })
        .times(6);
      const response = await handler()(
        apiEvent(ROUTES.byId, { id: CCKM_ID, body: { enable: true } }),
        lambdaContext(),
      );
      expect(response.statusCode).toBe(502);
      const text = output.text();
      expect(text.length).toBeGreaterThan(0);
      for (const secret of [REFRESH_TOKEN, JWT, 'JWT-SECRET-SIGNATURE', 'Bearer']) {
        expect(text).not.toContain(secret);
        expect(response.body).not.toContain(secret);
      }
      expect(text.toLowerCase()).not.toContain('authorization');
      h.mockAgent.assertNoPendingInterceptors();
    } finally {
      logger.setLogLevel('INFO');
    }
  });
});
