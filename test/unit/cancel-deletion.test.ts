import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCancelDeletionHandler } from '../../functions/cancel-deletion.ts';
import { ROUTES } from '../../functions/domain/cancel-request.ts';
import { DEADLINE_MARGIN_MS } from '../../functions/shared/deadline.ts';
import {
  AuthenticationError,
  ConfigError,
  TimeoutError,
  UpstreamError,
} from '../../functions/shared/errors.ts';
import { logger } from '../../functions/shared/logger.ts';
import { FakeCm, key } from '../helpers/fake-cckm.ts';
import { apiEvent, captureOutput, lambdaContext } from '../helpers/lambda.ts';

const ID = '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c';
const OTHER_ID = '5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
const ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
/** The handler's clock: fixed, so no test depends on the real one. */
const NOW = Date.parse('2026-11-28T12:00:00Z');

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

function setup(keys = [key({ id: ID })]) {
  const cckm = new FakeCm(keys);
  const handler = createCancelDeletionHandler({ cckm: () => cckm, logger, now: () => NOW });
  return { cckm, handler };
}

describe('cancel-deletion handler', () => {
  it('answers 200 with the contract body for a cancelled key', async () => {
    const { handler, cckm } = setup();
    const response = await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({
      id: ID,
      arn: ARN,
      outcome: 'cancelled',
      keyState: 'Disabled',
      enabled: false,
    });
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion']);
  });

  it('passes a deadline of the Lambda remaining time less the margin to every call', async () => {
    const { handler, cckm } = setup();
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 5_000 };
    await handler(apiEvent(ROUTES.byId, { id: ID }), context);
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion']);
    expect(cckm.calls.map((c) => c.deadline)).toEqual([
      NOW + 5_000 - DEADLINE_MARGIN_MS,
      NOW + 5_000 - DEADLINE_MARGIN_MS,
    ]);
  });

  it('writes one log line with the outcome and the request id, not the rest of the Lambda context', async () => {
    const { handler } = setup();
    await handler(apiEvent(ROUTES.byAwsKey, { body: { arn: ARN, enable: true } }), lambdaContext());
    const line = output.lines().find((l) => l.message === 'cancel-deletion');
    expect(line).toMatchObject({ outcome: 'cancelled', cckmId: ID, arn: ARN, enableRequested: true });
    expect(line?.function_request_id).toBe('c6af9ac6-7b61-11e6-9a41-93e812345678');
    for (const repeated of ['function_name', 'function_arn', 'function_memory_size', 'cold_start']) {
      expect(line).not.toHaveProperty(repeated);
    }
  });

  it('keeps the request id on an error line, and the next invocation logs with its own', async () => {
    const { handler } = setup();
    await handler(apiEvent(ROUTES.byId, { id: 'not-a-uuid' }), lambdaContext());
    const refused = output.lines().find((l) => l.message === 'request refused');
    expect(refused?.function_request_id).toBe('c6af9ac6-7b61-11e6-9a41-93e812345678');
    const next = { ...lambdaContext(), awsRequestId: '0b7c1a52-1111-4c2d-9e3f-000000000002' };
    await handler(apiEvent(ROUTES.byId, { id: ID }), next);
    const line = output.lines().find((l) => l.message === 'cancel-deletion');
    expect(line?.function_request_id).toBe('0b7c1a52-1111-4c2d-9e3f-000000000002');
  });

  it('hands the cancel-deletion line to the logger only when it prints INFO', async () => {
    const { handler } = setup([key({ id: ID }), key({ id: OTHER_ID })]);
    const info = vi.spyOn(logger, 'info');
    const level = logger.getLevelName();
    try {
      logger.setLogLevel('WARN');
      await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
      expect(info).not.toHaveBeenCalled();
      logger.setLogLevel('INFO');
      await handler(apiEvent(ROUTES.byId, { id: OTHER_ID }), lambdaContext());
      expect(info).toHaveBeenCalledWith('cancel-deletion', expect.objectContaining({ cckmId: OTHER_ID }));
    } finally {
      info.mockRestore();
      logger.setLogLevel(level);
    }
  });

  it.each([['../../auth/tokens'], ['%2e%2e%2f'], [`${ID}%2Fenable`], ['x'.repeat(5000)], ['']])(
    'answers 400 to the hostile id %s without calling CipherTrust Manager',
    async (id) => {
      const { handler, cckm } = setup();
      const response = await handler(apiEvent(ROUTES.byId, { id }), lambdaContext());
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        error: 'BadRequest',
        message: 'path parameter id must be a CCKM key id (a UUID)',
      });
      expect(cckm.calls).toEqual([]);
    },
  );

  it('answers 400 to bad input even when the function is misconfigured', async () => {
    const handler = createCancelDeletionHandler({
      cckm: () => {
        throw new ConfigError('CCKM_URL is required');
      },
      logger,
      now: () => NOW,
    });
    const response = await handler(apiEvent(ROUTES.byAwsKey, { body: '{"arn":' }), lambdaContext());
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toBe('body must be valid JSON');
  });

  it('answers 404 when CCKM does not know the key', async () => {
    const { handler } = setup([]);
    const response = await handler(apiEvent(ROUTES.byAwsKey, { body: { arn: ARN } }), lambdaContext());
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({
      error: 'NotFound',
      message: `CCKM does not manage the AWS key ${ARN}`,
    });
  });

  it.each([
    [new UpstreamError('CipherTrust Manager answered 503 after 5 attempts'), 502, 'BadGateway'],
    [new AuthenticationError('CipherTrust Manager refused the credentials'), 502, 'BadGateway'],
    [new TimeoutError('the time budget of 8000 ms ran out'), 504, 'GatewayTimeout'],
  ])('maps %s to %i', async (error, status, kind) => {
    const { handler, cckm } = setup();
    cckm.failures.set('cancelDeletion', { error });
    const response = await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: kind, message: error.message });
  });

  it('logs an upstream failure with what CM said and its cause in brief, not the whole cause', async () => {
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
      cert: { raw: 'PEER-CERTIFICATE-BYTES' },
    });
    const error = new UpstreamError(
      'CipherTrust Manager failed GET /api/v1/cckm/aws/keys/x: 503 NCERRServiceUnavailable',
      { status: 503, codeDesc: 'NCERRServiceUnavailable' },
      { cause },
    );
    const { handler, cckm } = setup();
    cckm.failures.set('getKey', { error });
    const response = await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
    expect(response.statusCode).toBe(502);
    const line = output.lines().find((l) => l.message === 'request failed');
    expect(line).toMatchObject({
      status: 502,
      errorName: 'UpstreamError',
      detail: { status: 503, codeDesc: 'NCERRServiceUnavailable' },
      cause: { name: 'Error', code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    });
    expect(output.text()).not.toContain('PEER-CERTIFICATE-BYTES');
  });

  it('answers 500 with a generic body to a configuration error and logs the details', async () => {
    const handler = createCancelDeletionHandler({
      cckm: () => {
        throw new ConfigError('Invalid configuration: CCKM_URL must use https:// (plain http is refused)');
      },
      logger,
      now: () => NOW,
    });
    const response = await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
    expect(response.statusCode).toBe(500);
    const body = JSON.parse(response.body);
    expect(body.error).toBe('InternalServerError');
    expect(body.message).not.toContain('CCKM_URL');
    expect(output.text()).toContain('CCKM_URL must use https://');
  });

  it('answers 500 with a generic body to an unexpected error', async () => {
    const { handler, cckm } = setup();
    cckm.failures.set('getKey', {
      error: new TypeError('Cannot read properties of undefined (reading aws_param)'),
    });
    const response = await handler(apiEvent(ROUTES.byId, { id: ID }), lambdaContext());
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('aws_param');
    expect(output.lines().some((l) => l.message === 'unexpected error')).toBe(true);
  });

  it('never logs the request headers or body', async () => {
    const { handler } = setup();
    const event = apiEvent(ROUTES.byId, {
      id: ID,
      body: { enable: true },
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/SIGNATURE-SECRET' },
    });
    await handler(event, lambdaContext());
    expect(output.text()).not.toContain('SIGNATURE-SECRET');
  });
});
