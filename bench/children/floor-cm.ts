import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Agent } from 'undici';

/**
 * What both floors share: the secret read, one refresh-token grant and the bare undici call, with
 * nothing of the guard's (no validation, retries, budgets or logging). Bench code, not a function: it
 * reads the same variables the functions do, without their schema.
 */

const origin = process.env.CCKM_URL ?? '';
const secretId = process.env.CCKM_SECRET_ID ?? '';
const secrets = new SecretsManagerClient({});

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

/** One CipherTrust Manager call with the container's token, minted at the first call. */
export async function floorCall(
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; json: unknown }> {
  session ??= open();
  const s = await session;
  const response = await s.agent.request({
    origin,
    path,
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${s.jwt}` },
  });
  return { status: response.statusCode, json: await response.body.json() };
}
