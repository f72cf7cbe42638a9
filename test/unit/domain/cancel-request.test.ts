import { describe, expect, it } from 'vitest';
import { type ApiRequest, parseCancelRequest, ROUTES } from '../../../functions/domain/cancel-request.ts';
import { ValidationError } from '../../../functions/shared/errors.ts';

const ID = '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c';
const ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const byId = (id: string | undefined, body?: string): ApiRequest => ({
  resource: ROUTES.byId,
  httpMethod: 'POST',
  pathParameters: id === undefined ? null : { id },
  body: body ?? null,
});
const byAws = (body: string | null, isBase64Encoded = false): ApiRequest => ({
  resource: ROUTES.byAwsKey,
  httpMethod: 'POST',
  pathParameters: null,
  body,
  isBase64Encoded,
});

function validationMessage(request: ApiRequest): string {
  try {
    parseCancelRequest(request);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parseCancelRequest: /keys/{id}/cancel-deletion', () => {
  it('accepts a CCKM id with no body', () => {
    expect(parseCancelRequest(byId(ID))).toEqual({ by: 'cckm-id', id: ID, enable: false });
  });

  it('accepts enable: true and normalises the id to lower case', () => {
    expect(parseCancelRequest(byId(ID.toUpperCase(), '{"enable":true}'))).toEqual({
      by: 'cckm-id',
      id: ID,
      enable: true,
    });
  });

  it.each([
    ['../../auth/tokens', 'path parameter id'],
    ['%2e%2e%2fauth', 'path parameter id'],
    [`${ID}%2Fenable`, 'path parameter id'],
    [`${ID}/../x`, 'path parameter id'],
    ['x'.repeat(5000), 'path parameter id'],
    ['', 'path parameter id'],
    ['1234abcd-12ab-34cd-56ef-1234567890ab ', 'path parameter id'],
  ])('refuses the hostile id %s', (id, expected) => {
    expect(validationMessage(byId(id))).toContain(expected);
  });

  it('refuses a missing id', () => {
    expect(validationMessage(byId(undefined))).toContain('path parameter id');
  });

  it.each([
    ['not json', 'body must be valid JSON'],
    ['[1,2]', 'body must be a JSON object'],
    ['{"enable":"yes"}', 'body field enable must be a boolean'],
    ['{"enable":true,"force":1}', 'unknown field(s): force'],
    [`{"enable":true,"pad":"${'x'.repeat(5000)}"}`, 'at most 4096 bytes'],
  ])('refuses the body %s', (body, expected) => {
    expect(validationMessage(byId(ID, body))).toContain(expected);
  });

  it('refuses a method other than POST', () => {
    expect(validationMessage({ ...byId(ID), httpMethod: 'DELETE' })).toBe('method must be POST');
  });

  it('refuses an unknown route', () => {
    expect(validationMessage({ ...byId(ID), resource: '/keys/{id}/delete' })).toContain('unknown route');
  });
});

describe('parseCancelRequest: /aws-keys/cancel-deletion', () => {
  it('accepts an ARN', () => {
    expect(parseCancelRequest(byAws(JSON.stringify({ arn: ARN, enable: true })))).toEqual({
      by: 'aws-key',
      ref: {
        arn: ARN,
        region: 'us-west-2',
        account: '111122223333',
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      enable: true,
    });
  });

  it('accepts a multi-Region KeyId with its Region', () => {
    const keyId = 'mrk-1234abcd12ab34cd56ef1234567890ab';
    expect(parseCancelRequest(byAws(JSON.stringify({ keyId, region: 'eu-west-1' })))).toEqual({
      by: 'aws-key',
      ref: { keyId, region: 'eu-west-1' },
      enable: false,
    });
  });

  it('accepts a base64-encoded body', () => {
    const body = Buffer.from(JSON.stringify({ arn: ARN })).toString('base64');
    expect(parseCancelRequest(byAws(body, true))).toMatchObject({ by: 'aws-key', ref: { arn: ARN } });
  });

  it.each([
    [null, 'body must have arn, or keyId and region'],
    ['{}', 'body must have arn, or keyId and region'],
    ['{"keyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}', 'body must have arn, or keyId and region'],
    [JSON.stringify({ arn: ARN, region: 'us-west-2' }), 'either arn, or keyId and region, not both'],
    ['{"arn":"arn:aws:kms:us-west-2:111122223333:alias/x"}', 'arn must be a KMS key ARN'],
    [
      '{"arn":"arn:aws:kms:us-west-2:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}',
      'arn must be a KMS key ARN',
    ],
    ['{"arn":"arn:aws:kms:us-west-2:111122223333:key/../../x"}', 'arn must be a KMS key ARN'],
    ['{"arn":42}', 'body field arn must be a string'],
    ['{"keyId":"../x","region":"us-east-1"}', 'keyId must be an AWS KMS key id'],
    ['{"keyId":"1234abcd-12ab-34cd-56ef-1234567890ab","region":"Moon-1"}', 'region must be an AWS Region'],
    ['{"arn":"x","extra":true}', 'unknown field(s): extra'],
  ])('refuses the body %s', (body, expected) => {
    expect(validationMessage(byAws(body))).toContain(expected);
  });
});
