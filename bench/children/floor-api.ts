import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { Agent } from 'undici';

/**
 * The floor of the API function: the CipherTrust Manager calls the route cannot avoid, made with bare
 * undici and the SDK's SecretsManagerClient, and nothing else (no validation, retries, budgets,
 * logging or middleware). Bundled with the functions' esbuild options and driven by the same child
 * harness, so the guard's figures divided by these are what the guard adds.
 */

const secrets = new SecretsManagerClient({});
// Bench code, not a function: it reads the same variables the functions do, without their schema.
const origin = process.env.CCKM_URL ?? '';
const secretId = process.env.CCKM_SECRET_ID ?? '';

interface Session {
  readonly agent: Agent;
  readonly jwt: string;
}

let session: Promise<Session> | undefined;

async function open(): Promise<Session> {
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const { refresh_token: refreshToken, ca_cert: ca } = JSON.parse(secret.SecretString ?? '{}') as {
    refresh_token: string;
    ca_cert: string;
  };
  const agent = new Agent({ connect: { ca } });
  const grant = await agent.request({
    origin,
    path: '/api/v1/auth/tokens',
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const { jwt } = (await grant.body.json()) as { jwt: string };
  return { agent, jwt };
}

async function call(
  s: Session,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; json: unknown }> {
  const response = await s.agent.request({
    origin,
    path,
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${s.jwt}` },
  });
  return { status: response.statusCode, json: await response.body.json() };
}

/** GET the key, then cancel its deletion: the two calls of `POST /keys/{id}/cancel-deletion`. */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  session ??= open();
  const s = await session;
  const id = event.pathParameters?.id ?? '';
  const path = `/api/v1/cckm/aws/keys/${id}`;
  const before = (await call(s, 'GET', path)).json as { aws_param: { Arn: string } };
  const cancelled = await call(s, 'POST', `${path}/cancel-deletion`);
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
