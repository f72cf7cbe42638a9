import { fileURLToPath } from 'node:url';
import type { StackProps } from 'aws-cdk-lib';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OUTCOMES } from '../functions/domain/remediation-outcome.ts';
import {
  DEFAULT_METRICS_NAMESPACE,
  OUTCOME_DIMENSION,
  OUTCOME_METRIC as OUTCOME_METRIC_NAME,
  SERVICE_NAME,
} from '../functions/shared/telemetry.ts';
import type { FunctionName } from './bundling.ts';
import { FUNCTION_ENTRIES, FUNCTION_TIMEOUT_MS } from './bundling.ts';
import { GuardFunction } from './constructs/guard-function.ts';
import type { GuardSettings } from './context.ts';
import { GUARD_ALARM_PREFIX } from './context.ts';

export const STACK_NAME = 'CckmDeletionGuard';
export { SERVICE_NAME };

/**
 * The EMF metric the dashboard reads, named by the functions' own constants: namespace
 * `CckmDeletionGuard`, metric `Outcome` (unit Count, one data point per outcome that occurred in an
 * invocation, valued at its count), dimensions `service` = `cckm-deletion-guard` (Powertools' default
 * dimension) and `outcome` = one of OUTCOMES.
 */
export const OUTCOME_METRIC = {
  namespace: DEFAULT_METRICS_NAMESPACE,
  metricName: OUTCOME_METRIC_NAME,
  dimension: OUTCOME_DIMENSION,
} as const;

/** The outcomes of contract section 4, one dashboard line each: the domain's own list. */
export { OUTCOMES };

/** The documented CloudTrail metric for use of a key pending deletion. */
export const PENDING_DELETION_METRIC = {
  namespace: 'CloudTrailLogMetrics',
  metricName: 'KMSKeyPendingDeletionErrorCount',
  filterPattern: '{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}',
} as const;

export interface DeletionGuardStackProps extends StackProps {
  readonly settings: GuardSettings;
  /** Directory holding package.json and the function sources; default: this repository. */
  readonly projectRoot?: string;
  /** Test-only: prebuilt code per function instead of bundling its entry. */
  readonly code?: Partial<Record<FunctionName, lambda.Code>>;
}

/** The whole guard: both functions, the REST API, the EventBridge rules, topic, queue, alarms, dashboard. */
export class DeletionGuardStack extends Stack {
  readonly cancelFunction: GuardFunction;
  readonly remediationFunction: GuardFunction;
  readonly api: apigw.RestApi;
  readonly notifyTopic: sns.Topic;
  readonly alarmTopic: sns.Topic;
  readonly deadLetterQueue: sqs.Queue;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DeletionGuardStackProps) {
    super(scope, id, {
      description: 'CCKM Deletion Guard: cancels scheduled AWS KMS key deletions through CipherTrust Manager',
      ...props,
    });
    const s = props.settings;
    const projectRoot = props.projectRoot ?? fileURLToPath(new URL('..', import.meta.url));
    const logRetention = logs.RetentionDays.ONE_YEAR;

    // --- Notifications -------------------------------------------------------------------------
    // Guard outcomes. The AWS-managed SNS key encrypts at rest without any kms:* permission on the
    // publishing function: its key policy lets every principal of the account use it through SNS.
    this.notifyTopic = new sns.Topic(this, 'NotifyTopic', {
      displayName: 'CCKM Deletion Guard',
      masterKey: kms.Alias.fromAliasName(this, 'AwsManagedSnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    // Operational alarms. CloudWatch cannot publish to a topic under the AWS-managed key (its key
    // policy does not admit cloudwatch.amazonaws.com; https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns),
    // so this topic has a customer-managed key whose policy lets CloudWatch use it. No function
    // publishes here, so no function needs that key.
    const alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the CCKM Deletion Guard alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'CCKM Deletion Guard alarms',
      masterKey: alarmTopicKey,
      enforceSSL: true,
    });
    // The TLS-only topic policy replaces SNS's default policy, so CloudWatch needs its own allow.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    for (const email of s.notifyEmails) {
      this.notifyTopic.addSubscription(new subscriptions.EmailSubscription(email));
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    // --- Dead letters --------------------------------------------------------------------------
    // SQS-managed encryption: EventBridge and Lambda deliver to it without any KMS key permission.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the rules and the remediation function; it has none of its own.',
    });

    // --- Network (optional) --------------------------------------------------------------------
    const network = s.vpc ? this.network(s.vpc, new URL(s.cckmUrl)) : undefined;

    // --- Functions -----------------------------------------------------------------------------
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'CckmSecret', s.cckmSecretName);
    const connectionEnv = {
      CCKM_URL: s.cckmUrl,
      CCKM_SECRET_ID: secret.secretName,
      CCKM_TLS_INSECURE: String(s.tlsInsecure),
      CCKM_TIMEOUT_MS: String(s.timeoutMs),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: OUTCOME_METRIC.namespace,
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
      memorySize: 512,
      timeout: Duration.millis(FUNCTION_TIMEOUT_MS['cancel-deletion']),
      environment: connectionEnv,
      logRetention,
      tracing: s.tracing,
      vpc: network,
      code: props.code?.['cancel-deletion'],
    });
    this.cancelFunction.role.addToPolicy(readSecret);

    this.remediationFunction = new GuardFunction(this, 'RemediateDeletion', {
      entry: FUNCTION_ENTRIES['remediate-deletion'],
      projectRoot,
      description: 'CCKM Deletion Guard: remediation of CloudTrail, alarm and scheduled events',
      memorySize: 512,
      timeout: Duration.millis(FUNCTION_TIMEOUT_MS['remediate-deletion']),
      environment: {
        ...connectionEnv,
        MODE: s.mode,
        REENABLE: s.reenable,
        ALLOWED_PRINCIPALS: s.allowedPrincipals.join(','),
        EXEMPT_TAG: s.exemptTag,
        NOTIFY_TOPIC_ARN: this.notifyTopic.topicArn,
      },
      logRetention,
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
    this.notifyTopic.grantPublish(this.remediationFunction.role);

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

    // --- API -----------------------------------------------------------------------------------
    this.api = this.restApi(s, logRetention);

    // --- Events --------------------------------------------------------------------------------
    this.rules(s);
    if (s.cloudTrailLogGroupName) this.pendingDeletionAlarm(s.cloudTrailLogGroupName);

    // --- Operations ----------------------------------------------------------------------------
    this.operationalAlarms();
    this.dashboard = this.buildDashboard();

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
  }

  private network(vpc: NonNullable<GuardSettings['vpc']>, cckm: URL) {
    // No lookups: synth stays offline. The AZ list is never consulted because the subnets are explicit.
    const imported = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: vpc.vpcId,
      availabilityZones: Fn.getAzs(),
    });
    const securityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: imported,
      description:
        'CCKM Deletion Guard functions: HTTPS out only (CipherTrust Manager, Secrets Manager, SNS)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to CipherTrust Manager and AWS APIs',
    );
    const cckmPort = cckm.port === '' ? 443 : Number(cckm.port);
    if (cckmPort !== 443) {
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(cckmPort), 'CipherTrust Manager port');
    }
    return {
      vpc: imported,
      subnets: { subnets: vpc.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, id)) },
      securityGroup,
    };
  }

  private restApi(s: GuardSettings, retention: logs.RetentionDays): apigw.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const vpcEndpoint = s.vpcEndpointId
      ? ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, 'ApiVpcEndpoint', {
          vpcEndpointId: s.vpcEndpointId,
          port: 443,
        })
      : undefined;

    const api = new apigw.RestApi(this, 'Api', {
      restApiName: SERVICE_NAME,
      description: 'CCKM Deletion Guard: cancel a scheduled KMS key deletion (IAM-signed)',
      endpointConfiguration: vpcEndpoint
        ? { types: [apigw.EndpointType.PRIVATE], vpcEndpoints: [vpcEndpoint] }
        : { types: [apigw.EndpointType.REGIONAL] },
      policy: this.apiPolicy(s),
      // Execution logging needs the account-level API Gateway CloudWatch role; kept on stack removal
      // because other APIs of the account rely on it too.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            caller: apigw.AccessLogField.contextIdentityUserArn(),
            accountId: apigw.AccessLogField.contextIdentityAccountId(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            path: apigw.AccessLogField.contextPath(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            latencyMs: apigw.AccessLogField.contextResponseLatency(),
            error: apigw.AccessLogField.contextErrorMessage(),
            validationError: apigw.AccessLogField.contextErrorValidationErrorString(),
          }),
        ),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies stay out of the execution log.
        dataTraceEnabled: false,
        // Per-method metrics are billed as custom metrics; the free stage-level ones suffice.
        metricsEnabled: false,
        tracingEnabled: s.tracing,
        throttlingRateLimit: 10,
        throttlingBurstLimit: 20,
      },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway logging role uses the AWS-documented managed policy for pushing execution and access logs; it is used by API Gateway only, never by the guard functions.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are operators and tools with AWS credentials: every method uses AWS_IAM (SigV4) authorization, which is stronger here than a Cognito user pool.',
    });
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method is IAM-authorized and the stage is throttled; unsigned requests are refused before any integration runs, so a WAF web ACL adds cost without adding a control. Attach one if the account policy requires it.',
    });

    const integration = new apigw.LambdaIntegration(this.cancelFunction.function, {
      proxy: true,
      allowTestInvoke: false,
    });
    // One validator for both routes: it checks the required path parameter and, where a model is
    // declared, the body; a route without a model has no body check.
    const validator = api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const awsKeyModel = api.addModel('AwsKeyCancelRequest', {
      contentType: 'application/json',
      modelName: 'AwsKeyCancelRequest',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'AwsKeyCancelRequest',
        type: apigw.JsonSchemaType.OBJECT,
        additionalProperties: false,
        properties: {
          arn: { type: apigw.JsonSchemaType.STRING, pattern: '^arn:aws[a-z-]*:kms:', maxLength: 2048 },
          keyId: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 2048 },
          region: { type: apigw.JsonSchemaType.STRING, pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' },
          enable: { type: apigw.JsonSchemaType.BOOLEAN },
        },
        oneOf: [{ required: ['arn'] }, { required: ['keyId', 'region'] }],
      },
    });

    // The body of this route is optional (`{"enable": true}` or nothing), and API Gateway would reject
    // an empty body against a model, so no model is declared here; the function checks the body.
    api.root
      .addResource('keys')
      .addResource('{id}')
      .addResource('cancel-deletion')
      .addMethod('POST', integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestParameters: { 'method.request.path.id': true },
        requestValidator: validator,
      });
    api.root
      .addResource('aws-keys')
      .addResource('cancel-deletion')
      .addMethod('POST', integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestValidator: validator,
        requestModels: { 'application/json': awsKeyModel },
      });
    return api;
  }

  private apiPolicy(s: GuardSettings): iam.PolicyDocument | undefined {
    if (s.allowedAccounts.length === 0 && s.vpcEndpointId === undefined) return undefined;
    // This account is always allowed: the operators who deployed the guard may call it.
    const accounts = [Aws.ACCOUNT_ID, ...s.allowedAccounts];
    const statements = [
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: accounts.map((a) => new iam.AccountPrincipal(a)),
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
    ];
    if (s.allowedAccounts.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringNotEquals: { 'aws:PrincipalAccount': accounts } },
        }),
      );
    }
    if (s.vpcEndpointId !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringNotEquals: { 'aws:SourceVpce': s.vpcEndpointId } },
        }),
      );
    }
    return new iam.PolicyDocument({ statements });
  }

  private rules(s: GuardSettings): void {
    const target = () =>
      new targets.LambdaFunction(this.remediationFunction.function, {
        deadLetterQueue: this.deadLetterQueue,
        // EventBridge retries only failures to hand the event to Lambda (throttling, service errors);
        // function errors are retried by Lambda's asynchronous invocation and land in the same queue.
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      });
    const scheduleKeyDeletion = (errorCode: { exists: boolean }) => ({
      source: ['aws.kms'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['kms.amazonaws.com'],
        eventName: ['ScheduleKeyDeletion'],
        errorCode: [errorCode],
      },
    });

    new events.Rule(this, 'ScheduleKeyDeletionRule', {
      description: 'CloudTrail ScheduleKeyDeletion that succeeded: remediate',
      eventPattern: scheduleKeyDeletion({ exists: false }),
      targets: [target()],
    });
    new events.Rule(this, 'ScheduleKeyDeletionDeniedRule', {
      description: 'CloudTrail ScheduleKeyDeletion that was refused: notify',
      eventPattern: scheduleKeyDeletion({ exists: true }),
      targets: [target()],
    });
    new events.Rule(this, 'AlarmRule', {
      description: 'A key-pending-deletion alarm entered ALARM: sweep',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: [...s.alarmNames.exact, ...s.alarmNames.prefixes.map((prefix) => ({ prefix }))],
          state: { value: ['ALARM'] },
        },
      },
      targets: [target()],
    });
    new events.Rule(this, 'SweepRule', {
      description: 'Periodic sweep of keys pending deletion (CloudTrail events are best effort)',
      schedule: events.Schedule.expression(s.sweepSchedule),
      targets: [target()],
    });
  }

  private pendingDeletionAlarm(logGroupName: string): void {
    const trailLogs = logs.LogGroup.fromLogGroupName(this, 'CloudTrailLogGroup', logGroupName);
    new logs.MetricFilter(this, 'PendingDeletionMetricFilter', {
      logGroup: trailLogs,
      filterPattern: logs.FilterPattern.literal(PENDING_DELETION_METRIC.filterPattern),
      metricNamespace: PENDING_DELETION_METRIC.namespace,
      metricName: PENDING_DELETION_METRIC.metricName,
      metricValue: '1',
    });
    // Named with the guard prefix, so the alarm rule turns its ALARM into a sweep; people hear of it too.
    const alarm = new cloudwatch.Alarm(this, 'PendingDeletionAlarm', {
      alarmName: `${GUARD_ALARM_PREFIX}-key-pending-deletion-used`,
      alarmDescription: 'A KMS key pending deletion was used (CloudTrail); the guard sweeps on ALARM',
      metric: new cloudwatch.Metric({
        namespace: PENDING_DELETION_METRIC.namespace,
        metricName: PENDING_DELETION_METRIC.metricName,
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
  }

  private operationalAlarms(): void {
    // These names must not start with GUARD_ALARM_PREFIX: an ALARM here would otherwise trigger a sweep.
    const action = new SnsAction(this.alarmTopic);
    const alarm = (id: string, name: string, description: string, metric: cloudwatch.IMetric) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${STACK_NAME}-${name}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      return a;
    };
    const period = Duration.minutes(5);
    for (const [key, fn] of [
      ['cancel-deletion', this.cancelFunction],
      ['remediate-deletion', this.remediationFunction],
    ] as const) {
      const idBase = key === 'cancel-deletion' ? 'CancelDeletion' : 'RemediateDeletion';
      alarm(
        `${idBase}ErrorsAlarm`,
        `${key}-errors`,
        `${key} function errors`,
        fn.function.metricErrors({ period }),
      );
      alarm(
        `${idBase}ThrottlesAlarm`,
        `${key}-throttles`,
        `${key} function throttled`,
        fn.function.metricThrottles({ period }),
      );
    }
    alarm(
      'DeadLetterQueueAlarm',
      'dead-letters',
      'Events the guard could not process are waiting in the dead-letter queue',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
    );
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const period = Duration.minutes(5);
    const fns = [this.cancelFunction.function, this.remediationFunction.function];
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Dashboards are global to the account: the Region keeps two deployments apart.
      dashboardName: `${STACK_NAME}-${Aws.REGION}`,
      defaultInterval: Duration.days(7),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Outcomes per kind',
        width: 24,
        stacked: true,
        left: OUTCOMES.map(
          (outcome) =>
            new cloudwatch.Metric({
              namespace: OUTCOME_METRIC.namespace,
              metricName: OUTCOME_METRIC.metricName,
              dimensionsMap: { service: SERVICE_NAME, [OUTCOME_METRIC.dimension]: outcome },
              statistic: cloudwatch.Stats.SUM,
              period,
              label: outcome,
            }),
        ),
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        width: 8,
        left: fns.map((f) => f.metricErrors({ period, statistic: cloudwatch.Stats.SUM })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99',
        width: 8,
        left: fns.map((f) => f.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        width: 8,
        left: [
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        ],
      }),
    );
    return dashboard;
  }
}
