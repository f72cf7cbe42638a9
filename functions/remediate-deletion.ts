import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { containerCckmClient } from './adapters/container-cckm-client.ts';
import { createDynamoLedger } from './adapters/ledger-dynamodb.ts';
import { createSnsNotifier, type Notify } from './adapters/notifier.ts';
import type { Ledger } from './domain/ledger.ts';
import type { CckmApi, RemediationPorts } from './domain/ports.ts';
import { assertComplete, remediate } from './domain/remediation.ts';
import { auditFields, type RemediationResult } from './domain/remediation-outcome.ts';
import { builtOnFirstUse } from './shared/built-once.ts';
import {
  connection,
  ledgerConfig,
  type PolicyConfig,
  policy,
  type ReachConfig,
  reach,
  requireConfig,
} from './shared/config.ts';
import { deadlineOf } from './shared/deadline.ts';
import { type GuardLogger, INFO_LEVEL, invocationContext, logger, printsAt } from './shared/logger.ts';
import { type MetricsTarget, metrics, recordGuardMetric, recordOutcomes } from './shared/metrics.ts';
import { sourceMapped } from './shared/source-maps.ts';

/** What the remediation handler needs from the outside world; tests pass fakes. */
export interface RemediationDeps {
  /** Returns the CipherTrust Manager client, or throws ConfigError when the connection is misconfigured. */
  readonly cckm: () => CckmApi;
  /** Returns the policy, or throws ConfigError naming the bad variable. */
  readonly policy: () => PolicyConfig;
  /** Returns scope and SWEEP_SYNC (default: everywhere, no sync), or throws ConfigError naming the variable. */
  readonly reach?: () => ReachConfig;
  /** Returns the ledger, undefined without `LEDGER_TABLE`, or throws ConfigError for a bad table name. */
  readonly ledger?: () => Ledger | undefined;
  /** Returns the SNS client (built on first use in the entry). */
  readonly sns: () => SNSClient;
  readonly logger: GuardLogger;
  /** Where the EMF lines go (the entry: this container's namespace, stdout). */
  readonly metrics: MetricsTarget;
  readonly now?: () => number;
  /** Keys decided at once in a sweep (default 8). */
  readonly concurrency?: number;
  /** Time kept back from the Lambda's remaining time for the last notifications and the flush (default 5 s). */
  readonly safetyMarginMs?: number;
  /** A key is not started with less than this left (default 1.5 s). */
  readonly minKeyBudgetMs?: number;
}

/** Default time kept back from the Lambda's remaining time. */
export const SAFETY_MARGIN_MS = 5000;

/** Builds the EventBridge handler of contract section 4: one outcome per key, throws when any failed. */
export function createRemediationHandler(deps: RemediationDeps) {
  const log = deps.logger;
  // The ports that depend on nothing but `deps`, built once rather than at every event.
  const audit: RemediationPorts['audit'] = (record) => {
    if (printsAt(log, INFO_LEVEL)) log.info('remediation outcome', auditFields(record));
  };
  const progress: RemediationPorts['progress'] = (message, fields) => {
    if (printsAt(log, INFO_LEVEL)) log.info(message, { ...fields });
  };
  const warn: NonNullable<RemediationPorts['warn']> = (message, fields) => log.warn(message, { ...fields });
  const unexpected: NonNullable<RemediationPorts['unexpected']> = (message, error, fields) =>
    log.error(message, { ...fields, error: sourceMapped(error) as Error });
  const metric: NonNullable<RemediationPorts['metric']> = (name, value) =>
    recordGuardMetric(deps.metrics, name, value);
  const now = deps.now ?? Date.now;
  // The notifier of the last (client, topic) pair: the same at every warm event.
  let notifier: { client: SNSClient; topicArn: string; notify: Notify } | undefined;
  const notifierFor = (client: SNSClient, topicArn: string): Notify => {
    if (notifier?.client !== client || notifier.topicArn !== topicArn) {
      notifier = { client, topicArn, notify: createSnsNotifier({ client, topicArn, logger: log }) };
    }
    return notifier.notify;
  };

  // No middy early timeout (a timer, a promise and a race per event): the domain's deadline keeps
  // `safetyMarginMs` (5 s) of Lambda's time back, long before middy's 5 ms would fire.
  return middy<unknown, RemediationResult>({ timeoutEarlyInMillis: 0 })
    .use(invocationContext(log, true))
    .handler(async (event: unknown, context: Context) => {
      const config = deps.policy();
      const cckm = deps.cckm();
      const reachConfig = deps.reach?.();
      const ledger = deps.ledger?.();
      const result = await remediate(event, {
        cckm,
        policy: config,
        audit,
        progress,
        warn,
        unexpected,
        notify: config.notifyTopicArn ? notifierFor(deps.sns(), config.notifyTopicArn) : undefined,
        ledger,
        metric,
        now,
        deadline: deadlineOf(context, now(), deps.safetyMarginMs ?? SAFETY_MARGIN_MS),
        concurrency: deps.concurrency,
        minKeyBudgetMs: deps.minKeyBudgetMs,
        scope: reachConfig?.scope,
        sweepSync: reachConfig?.sweepSync,
      });
      // The invocation's metrics (Outcome per outcome, Events), written once the event is decided.
      recordOutcomes(deps.metrics, result.kind, result.summary);
      assertComplete(result);
      return result;
    });
}

const cckmClient = containerCckmClient(connection, logger);

let snsClient: SNSClient | undefined;
function sns(): SNSClient {
  snsClient ??= new SNSClient({});
  return snsClient;
}

// The DynamoDB client exists only with a ledger; it honours AWS_ENDPOINT_URL_DYNAMODB (local runs).
const ledger = builtOnFirstUse(ledgerConfig, ({ tableName }) =>
  tableName ? createDynamoLedger({ client: new DynamoDBClient({}), tableName }) : undefined,
);

/** Lambda entry point. */
export const handler = createRemediationHandler({
  cckm: cckmClient,
  policy: () => requireConfig(policy),
  reach: () => requireConfig(reach),
  ledger,
  sns,
  logger,
  metrics,
});
