import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/**
 * Lambda inputs for the benchmark children. Dependency-free on purpose: the children are bundled and
 * run with plain `node`, and anything imported here would be loaded before a cold measurement starts.
 */

/** A Lambda context whose remaining time counts down from `timeoutMs`, as the deployed function's would. */
export function benchContext(functionName: string, timeoutMs: number): Context {
  const end = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `bench/[$LATEST]${requestId.slice(0, 8)}`,
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The REST API proxy event of `POST /keys/{id}/cancel-deletion` with no body, as API Gateway sends it. */
export function cancelByIdEvent(id: string): APIGatewayProxyEvent {
  const path = `/keys/${id}/cancel-deletion`;
  return {
    resource: '/keys/{id}/cancel-deletion',
    path,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { id },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
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
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'bench',
        userArn: 'arn:aws:iam::000000000000:user/bench-operator',
      },
      path,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: '/keys/{id}/cancel-deletion',
    },
  };
}
