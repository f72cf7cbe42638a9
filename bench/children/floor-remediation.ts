import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Agent } from 'undici';

/**
 * The floor of the remediation function for one CloudTrail `ScheduleKeyDeletion` event: the lookup
 * and the cancel with bare undici (list filtered by KeyID and Region, then POST cancel-deletion),
 * and, when a topic is configured, the one SNS message per decided key the contract requires, with
 * the bare SDK client. No validation, policy, retries, budgets, logging, metrics or middleware.
 */

const secrets = new SecretsManagerClient({});
const sns = new SNSClient({});
// Bench code, not a function: it reads the same variables the functions do, without their schema.
const origin = process.env.CCKM_URL ?? '';
const secretId = process.env.CCKM_SECRET_ID ?? '';
const topicArn = process.env.NOTIFY_TOPIC_ARN;

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

async function call(s: Session, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const response = await s.agent.request({
    origin,
    path,
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${s.jwt}` },
  });
  return response.body.json();
}

interface ScheduleKeyDeletion {
  readonly region: string;
  readonly detail: { readonly requestParameters: { readonly keyId: string } };
}

/** Looks the key up by KeyID and Region, cancels its deletion, and publishes one message. */
export async function handler(event: ScheduleKeyDeletion): Promise<{ summary: Record<string, number> }> {
  session ??= open();
  const s = await session;
  const keyId = event.detail.requestParameters.keyId;
  const listed = (await call(
    s,
    'GET',
    `/api/v1/cckm/aws/keys?keyid=${keyId}&region=${event.region}&limit=100`,
  )) as { resources: { id: string; aws_param: { Arn: string } }[] };
  const key = listed.resources[0];
  if (!key) return { summary: { 'not-managed': 1 } };
  await call(s, 'POST', `/api/v1/cckm/aws/keys/${key.id}/cancel-deletion`);
  if (topicArn) {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: `Deletion cancelled: ${keyId} (${event.region})`,
        Message: JSON.stringify({ outcome: 'cancelled', cckmId: key.id, arn: key.aws_param.Arn }),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: 'cancelled' } },
      }),
    );
  }
  return { summary: { cancelled: 1 } };
}
