import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { floorCall } from './floor-cm.ts';

/**
 * The floor of the API function: the CipherTrust Manager calls the route cannot avoid, made with bare
 * undici and the SDK's SecretsManagerClient, and nothing else (no validation, retries, budgets,
 * logging or middleware). Bundled with the functions' esbuild options and driven by the same child
 * harness, so the guard's figures divided by these are what the guard adds.
 */

/** GET the key, then cancel its deletion: the two calls of `POST /keys/{id}/cancel-deletion`. */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const id = event.pathParameters?.id ?? '';
  const path = `/api/v1/cckm/aws/keys/${id}`;
  const before = (await floorCall('GET', path)).json as { aws_param: { Arn: string } };
  const cancelled = await floorCall('POST', `${path}/cancel-deletion`);
  const after = cancelled.json as { aws_param: { KeyState: string; Enabled: boolean } };
  return {
    statusCode: cancelled.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      arn: before.aws_param.Arn,
      outcome: cancelled.status === 200 ? 'cancelled' : 'failed',
      keyState: after.aws_param.KeyState,
      enabled: after.aws_param.Enabled,
    }),
  };
}
