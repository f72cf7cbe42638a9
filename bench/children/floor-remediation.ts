import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { floorCall } from './floor-cm.ts';

/**
 * The floor of the remediation function for one CloudTrail `ScheduleKeyDeletion` event: the lookup
 * and the cancel with bare undici (list filtered by KeyID and Region, then POST cancel-deletion),
 * and, when a topic is configured, the one SNS message per decided key the contract requires, with
 * the bare SDK client. No validation, policy, retries, budgets, logging, metrics or middleware.
 */

const sns = new SNSClient({});
const topicArn = process.env.NOTIFY_TOPIC_ARN;

interface ScheduleKeyDeletion {
  readonly region: string;
  readonly detail: { readonly requestParameters: { readonly keyId: string } };
}

/** Looks the key up by KeyID and Region, cancels its deletion, and publishes one message. */
export async function handler(event: ScheduleKeyDeletion): Promise<{ summary: Record<string, number> }> {
  const keyId = event.detail.requestParameters.keyId;
  const listed = (
    await floorCall('GET', `/api/v1/cckm/aws/keys?keyid=${keyId}&region=${event.region}&limit=100`)
  ).json as { resources: { id: string; aws_param: { Arn: string } }[] };
  const key = listed.resources[0];
  if (!key) return { summary: { 'not-managed': 1 } };
  await floorCall('POST', `/api/v1/cckm/aws/keys/${key.id}/cancel-deletion`);
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
