import { describe, expect, it } from 'vitest';
import {
  fromProxyResult,
  LOCAL_CALLER_ARN,
  matchRoute,
  toApiGatewayEvent,
} from '../../../local/api-gateway.ts';

describe('local API Gateway translation', () => {
  it('matches the two routes and URL-decodes the path parameter', () => {
    expect(matchRoute('POST', '/keys/abc%2F..%2Fx/cancel-deletion')).toEqual({
      route: expect.objectContaining({ resource: '/keys/{id}/cancel-deletion' }),
      pathParameters: { id: 'abc/../x' },
    });
    expect(matchRoute('post', '/aws-keys/cancel-deletion')?.pathParameters).toBeNull();
  });

  it('refuses other methods and paths (API Gateway answers those itself)', () => {
    expect(matchRoute('GET', '/keys/abc/cancel-deletion')).toBeUndefined();
    expect(matchRoute('POST', '/keys/a/b/cancel-deletion')).toBeUndefined();
    expect(matchRoute('POST', '/prod/aws-keys/cancel-deletion')).toBeUndefined();
  });

  it('builds a REST proxy event with resource, path, headers, query and caller identity', () => {
    const match = matchRoute('POST', '/keys/k1/cancel-deletion')!;
    const event = toApiGatewayEvent(
      {
        method: 'POST',
        url: '/keys/k1/cancel-deletion?dry=1&dry=2',
        headers: { 'content-type': 'application/json', 'x-multi': ['a', 'b'] },
        body: '{"enable":true}',
        sourceIp: '127.0.0.1',
      },
      match,
    );
    expect(event).toMatchObject({
      resource: '/keys/{id}/cancel-deletion',
      path: '/keys/k1/cancel-deletion',
      httpMethod: 'POST',
      pathParameters: { id: 'k1' },
      body: '{"enable":true}',
      isBase64Encoded: false,
      headers: { 'content-type': 'application/json', 'x-multi': 'a,b' },
      multiValueHeaders: { 'x-multi': ['a', 'b'] },
      queryStringParameters: { dry: '2' },
      multiValueQueryStringParameters: { dry: ['1', '2'] },
      requestContext: {
        resourcePath: '/keys/{id}/cancel-deletion',
        identity: { userArn: LOCAL_CALLER_ARN, sourceIp: '127.0.0.1' },
      },
    });
    expect(
      toApiGatewayEvent(
        { method: 'POST', url: '/aws-keys/cancel-deletion', headers: {}, body: '', sourceIp: '::1' },
        matchRoute('POST', '/aws-keys/cancel-deletion')!,
      ).body,
    ).toBeNull();
  });

  it('turns a proxy result into an HTTP response, decoding base64 bodies', () => {
    expect(
      fromProxyResult({
        statusCode: 404,
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.from('{}').toString('base64'),
        isBase64Encoded: true,
      }),
    ).toEqual({ status: 404, headers: { 'content-type': 'application/json' }, body: '{}' });
  });
});
