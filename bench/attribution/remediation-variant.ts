import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { containerCckmClient } from '../../functions/adapters/container-cckm-client.ts';
import { createSnsNotifier } from '../../functions/adapters/notifier.ts';
import { assertComplete, remediate } from '../../functions/domain/remediation.ts';
import { auditFields } from '../../functions/domain/remediation-outcome.ts';
import { connection, policy, reach, requireConfig } from '../../functions/shared/config.ts';
import { deadlineOf } from '../../functions/shared/deadline.ts';
import { INFO_LEVEL, logger, printsAt } from '../../functions/shared/logger.ts';
import { metrics, recordGuardMetric, recordOutcomes } from '../../functions/shared/metrics.ts';

/**
 * Attribution only (bench/attribution/run.ts), never deployed: the remediation handler of
 * functions/remediate-deletion.ts without middy (what `invocationContext` does on the success path is
 * done by hand), with layers switched off by `ATTR_OFF` at load (comma-separated): `audit` (the
 * `remediation outcome` line), `emf` (the EMF line), `sns` (the notification). No ledger (the bench's
 * remediation measure runs without one too).
 */

const off = new Set((process.env.ATTR_OFF ?? '').split(',').filter(Boolean));
const cckm = containerCckmClient(connection, logger);
let sns: SNSClient | undefined;

export async function handler(event: unknown, context: Context): Promise<unknown> {
  if (off.has('domain')) {
    // Adapter only: the lookup and the cancel through the CCKM client, nothing else.
    const options = { deadline: deadlineOf(context, Date.now(), 5000) };
    const e = event as { region: string; detail: { requestParameters: { keyId: string } } };
    const client = cckm();
    const key = await client.findAwsKey(
      { keyId: e.detail.requestParameters.keyId, region: e.region },
      options,
    );
    if (!key) throw new Error('not found');
    const result = await client.cancelDeletion(key.cckmId, options);
    return { summary: { [result.outcome]: 1 } };
  }
  if (!off.has('ctx')) logger.beginInvocation(context, true);
  const config = requireConfig(policy);
  const reachConfig = requireConfig(reach);
  const now = Date.now;
  const topic = off.has('sns') ? undefined : config.notifyTopicArn;
  sns ??= new SNSClient({});
  const result = await remediate(event, {
    cckm: cckm(),
    policy: config,
    audit: off.has('audit')
      ? () => undefined
      : (record) => {
          if (printsAt(logger, INFO_LEVEL)) logger.info('remediation outcome', auditFields(record));
        },
    progress: (message, f) => {
      if (printsAt(logger, INFO_LEVEL)) logger.info(message, { ...f });
    },
    warn: (message, f) => logger.warn(message, { ...f }),
    unexpected: (message, error, f) => logger.error(message, { ...f, error: error as Error }),
    notify: topic ? createSnsNotifier({ client: sns, topicArn: topic, logger }) : undefined,
    metric: (name, value) => recordGuardMetric(metrics, name, value),
    now,
    deadline: deadlineOf(context, now(), 5000),
    scope: reachConfig.scope,
    sweepSync: reachConfig.sweepSync,
  });
  if (!off.has('emf')) recordOutcomes(metrics, result.kind, result.summary);
  assertComplete(result);
  return result;
}
