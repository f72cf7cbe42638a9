import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { vi } from 'vitest';
import { lambdaContext as buildContext } from '../../local/lambda-context.ts';

/**
 * A Lambda context whose remaining time counts down from `remainingMs` in real time; built by the
 * same code as the local host's, with a fixed request id the tests can look for in log lines.
 */
export function lambdaContext(remainingMs = 29_000, options: { functionName?: string } = {}): Context {
  return buildContext({
    functionName: options.functionName ?? 'cckm-deletion-guard-test',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    deadline: Date.now() + remainingMs,
    account: '111122223333',
    memoryLimitInMB: '256',
    logStreamName: '2026/11/28/[$LATEST]test',
  });
}

/** An API Gateway REST proxy event for one of the guard's routes. */
export function apiEvent(
  resource: string,
  options: { id?: string; body?: unknown; method?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const path = options.id === undefined ? resource : resource.replace('{id}', options.id);
  const body =
    options.body === undefined
      ? null
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return {
    resource,
    path,
    httpMethod: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.id === undefined ? null : { id: options.id },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method ?? 'POST',
      identity: {
        accessKey: null,
        accountId: '111122223333',
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        userArn: 'arn:aws:iam::111122223333:user/operator',
      },
      path,
      stage: 'prod',
      requestId: 'test-request',
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      resourcePath: resource,
    },
  };
}

/** Captures everything written to stdout and stderr (where Powertools Logger writes) until restored. */
export function captureOutput(): {
  text: () => string;
  lines: () => Record<string, unknown>[];
  restore: () => void;
} {
  const chunks: string[] = [];
  const record = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(record);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(record);
  return {
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
