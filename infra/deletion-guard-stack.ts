import { fileURLToPath } from 'node:url';
import type { StackProps } from 'aws-cdk-lib';
import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE, SERVICE_NAME } from '../functions/shared/telemetry.ts';
import type { FunctionName } from './bundling.ts';
import { FUNCTION_ENTRIES, FUNCTION_MEMORY_MB, FUNCTION_TIMEOUT_MS } from './bundling.ts';
import { acknowledgeControl, addConfusedDeputyGuards } from './compliance.ts';
import { auditLogKey } from './constructs/audit-log-key.ts';
import { deadLetterQueue, eventRules, RULE_TARGET_RETRY } from './constructs/event-rules.ts';
import { GuardApi } from './constructs/guard-api.ts';
import { GuardFunction } from './constructs/guard-function.ts';
import { HubBus } from './constructs/hub-bus.ts';
import { LedgerTable } from './constructs/ledger-table.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { functionNetwork } from './constructs/network.ts';
import { NotificationTopics } from './constructs/notifications.ts';
import type { GuardSettings } from './context.ts';
import type { HubSettings } from './hub-context.ts';
import { hubFunctionEnvironment, parseHubContext } from './hub-context.ts';

export const STACK_NAME = 'CckmDeletionGuard';

export interface DeletionGuardStackProps extends StackProps {
  readonly settings: GuardSettings;
  /** Hub bus policy, scope and sweep synchronization (./hub-context.ts); default: none of them (`*` scope). */
  readonly hub?: HubSettings;
  /** Directory holding package.json and the function sources; default: this repository. */
  readonly projectRoot?: string;
  /** Test-only: prebuilt code per function instead of bundling its entry. */
  readonly code?: Partial<Record<FunctionName, lambda.Code>>;
}

/**
 * The whole guard (the hub): both functions, the REST API, the EventBridge rules on the default bus and
 * on the hub bus, the ledger table, topics, queue, alarms, dashboard.
 * Each concern is built by its module under constructs/, in this stack's scope, so the logical ids of a
 * deployed stack never change with the code's layout.
 */
export class DeletionGuardStack extends Stack {
  readonly cancelFunction: GuardFunction;
  readonly remediationFunction: GuardFunction;
  readonly api: apigw.RestApi;
  readonly notifyTopic: sns.Topic;
  readonly alarmTopic: sns.Topic;
  readonly deadLetterQueue: sqs.Queue;
  readonly dashboard: cloudwatch.Dashboard;
  readonly hubBus: HubBus;
  readonly ledger: LedgerTable;

  constructor(scope: Construct, id: string, props: DeletionGuardStackProps) {
    super(scope, id, {
      description: 'CCKM Deletion Guard: cancels scheduled AWS KMS key deletions through CipherTrust Manager',
      ...props,
    });
    const s = props.settings;
    const hub = props.hub ?? parseHubContext({});
    const scopeEnv = hubFunctionEnvironment(hub);
    const projectRoot = props.projectRoot ?? fileURLToPath(new URL('..', import.meta.url));
    const logRetention = logs.RetentionDays.ONE_YEAR;

    const topics = new NotificationTopics(this, { emails: s.notifyEmails });
    this.notifyTopic = topics.notifyTopic;
    this.alarmTopic = topics.alarmTopic;
    this.deadLetterQueue = deadLetterQueue(this);
    const logKey = auditLogKey(this);
    this.ledger = new LedgerTable(this, 'Ledger');
    const network = s.vpc ? functionNetwork(this, { ...s.vpc, cckmUrl: s.cckmUrl }) : undefined;

    // --- Functions -----------------------------------------------------------------------------
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'CckmSecret', s.cckmSecretName);
    const connectionEnv = {
      CCKM_URL: s.cckmUrl,
      CCKM_SECRET_ID: secret.secretName,
      CCKM_TLS_INSECURE: String(s.tlsInsecure),
      CCKM_TIMEOUT_MS: String(s.timeoutMs),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE,
    };
    // GetSecretValue only (grantRead would add DescribeSecret). A name-imported secret's ARN ends in
    // six random characters, hence `-??????`: that one secret, not every secret sharing the prefix.
    const readSecret = new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [`${secret.secretArn}-??????`],
    });

    this.cancelFunction = new GuardFunction(this, 'CancelDeletion', {
      entry: FUNCTION_ENTRIES['cancel-deletion'],
      projectRoot,
      description: 'CCKM Deletion Guard: API route, cancels the deletion of one key',
      memorySize: FUNCTION_MEMORY_MB['cancel-deletion'],
      timeout: Duration.millis(FUNCTION_TIMEOUT_MS['cancel-deletion']),
      // The API answers 403 for a key outside scope, so it reads the same scope as the remediation.
      environment: {
        ...connectionEnv,
        SCOPE_ACCOUNTS: scopeEnv.SCOPE_ACCOUNTS,
        SCOPE_REGIONS: scopeEnv.SCOPE_REGIONS,
      },
      logRetention,
      logKey,
      tracing: s.tracing,
      vpc: network,
      code: props.code?.['cancel-deletion'],
    });
    this.cancelFunction.role.addToPolicy(readSecret);

    this.remediationFunction = new GuardFunction(this, 'RemediateDeletion', {
      entry: FUNCTION_ENTRIES['remediate-deletion'],
      projectRoot,
      description: 'CCKM Deletion Guard: remediation of CloudTrail, alarm and scheduled events',
      memorySize: FUNCTION_MEMORY_MB['remediate-deletion'],
      timeout: Duration.millis(FUNCTION_TIMEOUT_MS['remediate-deletion']),
      environment: {
        ...connectionEnv,
        MODE: s.mode,
        REENABLE: s.reenable,
        ALLOWED_PRINCIPALS: s.allowedPrincipals.join(','),
        EXEMPT_TAG: s.exemptTag,
        NOTIFY_TOPIC_ARN: topics.notifyTopic.topicArn,
        ...scopeEnv,
        LEDGER_TABLE: this.ledger.tableName,
      },
      logRetention,
      logKey,
      tracing: s.tracing,
      reservedConcurrentExecutions: s.reservedConcurrency,
      vpc: network,
      // A failed key makes the handler throw; Lambda retries, then parks the event here.
      async: {
        onFailure: new SqsDestination(this.deadLetterQueue),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      },
      code: props.code?.['remediate-deletion'],
    });
    this.remediationFunction.role.addToPolicy(readSecret);
    topics.notifyTopic.grantPublish(this.remediationFunction.role);
    this.ledger.grantLedgerAccess(this.remediationFunction.role);

    const wildcardReasons = [
      network &&
        'Lambda manages the network interfaces of a VPC function with EC2 actions that do not support resource-level permissions (the AWSLambdaVPCAccessExecutionRole statement, written out).',
      s.tracing &&
        'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
    ].filter((r): r is string => typeof r === 'string');
    if (wildcardReasons.length > 0) {
      for (const fn of [this.cancelFunction, this.remediationFunction]) {
        Validations.of(fn.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: wildcardReasons.join(' '),
        });
      }
    }

    if (!network) {
      for (const fn of [this.cancelFunction, this.remediationFunction]) {
        acknowledgeControl(
          fn.function,
          'CT.LAMBDA.PR.3',
          "Running inside a VPC is the operator's choice (-c vpcId=... -c subnetIds=...): CipherTrust Manager may be reachable on the internet, and a VPC function would then need a NAT gateway to reach it and the AWS APIs.",
        );
      }
    }
    addConfusedDeputyGuards(this);

    this.api = new GuardApi(this, {
      settings: s,
      handler: this.cancelFunction.function,
      logRetention,
      logKey,
    }).api;
    eventRules(this, {
      settings: s,
      remediation: this.remediationFunction.function,
      deadLetterQueue: this.deadLetterQueue,
    });
    // The bus the spokes forward to, its rules with the default-bus rules' retry policy and queue.
    this.hubBus = new HubBus(this, 'HubBus', {
      organizationId: hub.organizationId,
      spokeAccounts: hub.spokeAccounts,
      target: this.remediationFunction.function,
      deadLetterQueue: this.deadLetterQueue,
      ...RULE_TARGET_RETRY,
    });
    this.dashboard = new Monitoring(this, {
      namePrefix: STACK_NAME,
      alarmTopic: this.alarmTopic,
      cancelFunction: this.cancelFunction.function,
      remediationFunction: this.remediationFunction.function,
      remediationLogGroup: this.remediationFunction.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      cloudTrailLogGroupName: s.cloudTrailLogGroupName,
    }).dashboard;

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the REST API (IAM-signed)',
    });
    new CfnOutput(this, 'TopicArn', {
      value: this.notifyTopic.topicArn,
      description: 'SNS topic of the guard outcomes',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'SNS topic of the operational alarms',
    });
    new CfnOutput(this, 'DlqUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Dead-letter queue of events the guard could not process',
    });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
    new CfnOutput(this, 'LedgerTableName', {
      value: this.ledger.tableName,
      description: 'DynamoDB table of the decisions, notifications and spoke heartbeats the guard remembers',
    });
  }
}
