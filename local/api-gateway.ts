import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * A local stand-in for the REST API (API Gateway v1, Lambda proxy integration): matches the
 * contract's routes, turns an HTTP request into the proxy event the real handler receives, and the
 * handler's result back into an HTTP response. IAM (SigV4) authorisation is not checked locally;
 * the event carries a fixed local caller identity instead.
 */

/** One API route: method, API Gateway resource template, and a matcher for the request path. */
export interface ApiRoute {
  readonly method: 'POST';
  readonly resource: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

/** The routes of contract section 3. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST',
    resource: '/keys/{id}/cancel-deletion',
    pattern: /^\/keys\/([^/]+)\/cancel-deletion$/,
    params: ['id'],
  },
  {
    method: 'POST',
    resource: '/aws-keys/cancel-deletion',
    pattern: /^\/aws-keys\/cancel-deletion$/,
    params: [],
  },
];

/** Identity the local API puts in `requestContext.identity` (no SigV4 check happens locally). */
export const LOCAL_CALLER_ARN = 'arn:aws:iam::000000000000:user/local-operator';

/** A matched route with its path parameters, URL-decoded as API Gateway passes them. */
export interface RouteMatch {
  readonly route: ApiRoute;
  readonly pathParameters: Record<string, string> | null;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Finds the route for a method and path; undefined when API Gateway would refuse it (403). */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const route of API_ROUTES) {
    const m = route.pattern.exec(path);
    if (!m || method.toUpperCase() !== route.method) continue;
    if (route.params.length === 0) return { route, pathParameters: null };
    const pathParameters: Record<string, string> = {};
    route.params.forEach((name, i) => {
      pathParameters[name] = decode(m[i + 1] ?? '');
    });
    return { route, pathParameters };
  }
  return undefined;
}

/** What the HTTP server read from a request. */
export interface LocalHttpRequest {
  readonly method: string;
  /** Path and query as received, e.g. `/keys/abc/cancel-deletion?x=1`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly sourceIp: string;
}

/** Builds the REST API proxy event for a matched request. */
export function toApiGatewayEvent(request: LocalHttpRequest, match: RouteMatch): APIGatewayProxyEvent {
  const url = new URL(request.url, 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = Date.now();
  return {
    resource: match.route.resource,
    path: url.pathname,
    httpMethod: request.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: request.body === '' ? null : request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: '000000000000',
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: 'AIDALOCALOPERATOR',
        userAgent: String(headers['user-agent'] ?? ''),
        userArn: LOCAL_CALLER_ARN,
      },
      path: `/local${url.pathname}`,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      requestTime: new Date(now).toUTCString(),
      resourceId: 'local',
      resourcePath: match.route.resource,
    },
  };
}

/** What the HTTP server sends back. */
export interface LocalHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Turns a proxy result into the HTTP response API Gateway would send. */
export function fromProxyResult(result: APIGatewayProxyResult): LocalHttpResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {}))
    headers[k.toLowerCase()] = v.map(String).join(', ');
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
  return { status: result.statusCode, headers, body };
}

/** API Gateway's answer for a path or method no route matches (with IAM authorisation). */
export const MISSING_ROUTE_RESPONSE: LocalHttpResponse = {
  status: 403,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
  body: JSON.stringify({ message: 'Missing Authentication Token' }),
};

/** API Gateway's answer when the integration fails (the function threw or timed out). */
export const INTEGRATION_FAILURE_RESPONSE: LocalHttpResponse = {
  status: 502,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: 'Internal server error' }),
};
