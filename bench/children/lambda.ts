import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { API_ROUTES, toApiGatewayEvent } from '../../local/api-gateway.ts';
import { lambdaContext } from '../../local/lambda-context.ts';

/**
 * Lambda inputs for the benchmark children, built by the same code the local stack uses. Both
 * modules are dependency-free, so the bundled children still run with plain `node` and load nothing
 * before a cold measurement starts.
 */

const BY_ID = API_ROUTES.find((r) => r.resource === '/keys/{id}/cancel-deletion');

/** A Lambda context whose remaining time counts down from `timeoutMs`, as the deployed function's would. */
export function benchContext(functionName: string, timeoutMs: number): Context {
  const awsRequestId = randomUUID();
  return lambdaContext({
    functionName,
    awsRequestId,
    deadline: Date.now() + timeoutMs,
    logStreamName: `bench/[$LATEST]${awsRequestId.slice(0, 8)}`,
  });
}

/** The REST API proxy event of `POST /keys/{id}/cancel-deletion` with no body, as API Gateway sends it. */
export function cancelByIdEvent(id: string): APIGatewayProxyEvent {
  if (!BY_ID) throw new Error('the local API has no /keys/{id}/cancel-deletion route');
  return toApiGatewayEvent(
    {
      method: 'POST',
      url: `/keys/${id}/cancel-deletion`,
      headers: { 'content-type': 'application/json', 'user-agent': 'bench' },
      body: '',
      sourceIp: '127.0.0.1',
    },
    { route: BY_ID, pathParameters: { id } },
  );
}
