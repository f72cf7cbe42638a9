import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { vi } from 'vitest';
import { API_ROUTES, toApiGatewayEvent } from '../../local/api-gateway.ts';
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

/**
 * An API Gateway REST proxy event for one of the guard's routes, built by the local API's translation
 * (`npm start`); `id` is the path parameter exactly as the handler receives it.
 */
export function apiEvent(
  resource: string,
  options: { id?: string; body?: unknown; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const route = API_ROUTES.find((r) => r.resource === resource);
  if (!route) throw new Error(`no API route ${resource}`);
  const { id, body } = options;
  return toApiGatewayEvent(
    {
      method: route.method,
      url: id === undefined ? resource : resource.replace('{id}', encodeURIComponent(id)),
      headers: { 'content-type': 'application/json', 'user-agent': 'vitest', ...options.headers },
      body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
      sourceIp: '127.0.0.1',
    },
    { route, pathParameters: id === undefined ? null : { id } },
  );
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
