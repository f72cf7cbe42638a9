import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OUTCOMES } from '../../functions/domain/remediation-outcome.ts';
import { LEDGER_ITEM_ACTIONS } from '../../functions/shared/ledger-schema.ts';
import { FUNCTION_MEMORY_MB } from '../../infra/bundling.ts';
import type { GuardFunction } from '../../infra/constructs/guard-function.ts';
import { PENDING_DELETION_METRIC } from '../../infra/constructs/monitoring.ts';
import { GUARD_ALARM_PREFIX } from '../../infra/context.ts';
import type { Synthesized } from './helpers.ts';
import { HUB_CONTEXT, synth } from './helpers.ts';

type Json = Record<string, unknown>;

const base = synth();
const full = synth({
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  cckmUrl: 'https://cm.internal.example:8443',
  tracing: 'true',
  allowedAccounts: '111122223333',
  vpcEndpointId: 'vpce-0123456789abcdef0',
  cloudTrailLogGroupName: 'aws-cloudtrail-logs',
  notifyEmail: 'ops@example.com',
  mode: 'detect',
  reenable: 'never',
  allowedPrincipals: 'arn:aws:iam::111122223333:role/KeyAdmin',
  exemptTag: 'team:disposable=yes',
  tlsInsecure: 'true',
  timeoutMs: '15000',
  reservedConcurrency: '5',
  sweepSchedule: 'rate(30 minutes)',
});

const hubbed = synth(HUB_CONTEXT);

const id = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId(construct.node.defaultChild as CfnElement);

function resource(s: Synthesized, logicalId: string): Json {
  const r = (s.template.toJSON().Resources as Record<string, Json>)[logicalId];
  if (!r) throw new Error(`no resource ${logicalId}`);
  return r.Properties as Json;
}

/** Every statement of every policy attached to the function's role, plus the role's own policies. */
function roleStatements(s: Synthesized, fn: GuardFunction): Json[] {
  const roleId = id(s, fn.role);
  const role = resource(s, roleId);
  expect(role.ManagedPolicyArns).toBeUndefined();
  expect(role.Policies).toBeUndefined();
  const policies = Object.values(s.template.findResources('AWS::IAM::Policy')).filter((p) =>
    ((p.Properties as Json).Roles as unknown[]).some(
      (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }),
    ),
  );
  return policies.flatMap((p) => ((p.Properties as Json).PolicyDocument as { Statement: Json[] }).Statement);
}

const actionsOf = (statements: Json[]) => statements.flatMap((st) => [st.Action].flat() as string[]);

function secretArn(name: string) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':secretsmanager:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:secret:${name}-??????`,
      ],
    ],
  };
}

function env(s: Synthesized, fn: GuardFunction): Json {
  return ((resource(s, id(s, fn.function)).Environment as Json).Variables ?? {}) as Json;
}

describe('functions', () => {
  it.each([
    ['cancel-deletion', base.stack.cancelFunction],
    ['remediate-deletion', base.stack.remediationFunction],
  ] as const)(
    'runs the %s function on nodejs24.x, arm64, as an ESM bundle handler, with its own log group',
    (name, fn) => {
      const props = resource(base, id(base, fn.function));
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      // The figure the bench derives its Lambda heap from.
      expect(props.MemorySize).toBe(FUNCTION_MEMORY_MB[name]);
      expect(props.MemorySize).toBe(512);
      expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: id(base, fn.logGroup) } });
      expect(resource(base, id(base, fn.logGroup)).RetentionInDays).toBe(365);
    },
  );

  it('gives the API function a timeout below API Gateway’s 29 s and above the CipherTrust Manager budget', () => {
    const timeout = resource(full, id(full, full.stack.cancelFunction.function)).Timeout as number;
    expect(timeout).toBe(28);
    expect(timeout * 1000).toBeGreaterThan(
      Number(env(full, full.stack.cancelFunction).CCKM_TIMEOUT_MS) + 5000,
    );
  });

  it('gives the remediation function five minutes for sweeps', () => {
    expect(resource(base, id(base, base.stack.remediationFunction.function)).Timeout).toBe(300);
  });

  it('binds the connection variables of both functions to the context and the secret name', () => {
    for (const fn of [full.stack.cancelFunction, full.stack.remediationFunction]) {
      expect(env(full, fn)).toMatchObject({
        CCKM_URL: 'https://cm.internal.example:8443',
        CCKM_SECRET_ID: 'cckm/deletion-guard',
        CCKM_TLS_INSECURE: 'true',
        CCKM_TIMEOUT_MS: '15000',
        POWERTOOLS_SERVICE_NAME: 'cckm-deletion-guard',
        POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
      });
      // Source maps are applied when an error is logged, not at every cold start (BENCHMARKS.md).
      expect(env(full, fn).NODE_OPTIONS).toBeUndefined();
    }
    expect(env(base, base.stack.cancelFunction)).toMatchObject({
      CCKM_TLS_INSECURE: 'false',
      CCKM_TIMEOUT_MS: '8000',
    });
  });

  it('binds the remediation policy variables, and NOTIFY_TOPIC_ARN to the notification topic', () => {
    expect(env(full, full.stack.remediationFunction)).toMatchObject({
      MODE: 'detect',
      REENABLE: 'never',
      ALLOWED_PRINCIPALS: 'arn:aws:iam::111122223333:role/KeyAdmin',
      EXEMPT_TAG: 'team:disposable=yes',
      NOTIFY_TOPIC_ARN: { Ref: id(full, full.stack.notifyTopic) },
    });
    expect(env(full, full.stack.cancelFunction)).not.toHaveProperty('NOTIFY_TOPIC_ARN');
  });

  it('reserves remediation concurrency only when asked', () => {
    expect(
      resource(full, id(full, full.stack.remediationFunction.function)).ReservedConcurrentExecutions,
    ).toBe(5);
    expect(
      resource(base, id(base, base.stack.remediationFunction.function)).ReservedConcurrentExecutions,
    ).toBeUndefined();
  });

  it('sends failed asynchronous remediation invocations to the dead-letter queue after two retries', () => {
    base.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(base, base.stack.remediationFunction.function) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [id(base, base.stack.deadLetterQueue), 'Arn'] } },
      },
    });
  });
});

describe('IAM', () => {
  const secret = secretArn('cckm/deletion-guard');

  it('lets the cancel function write its own log and read that one secret, nothing else', () => {
    const s = base;
    expect(roleStatements(s, s.stack.cancelFunction)).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(s, s.stack.cancelFunction.logGroup), 'Arn'] },
      },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: secret },
    ]);
  });

  it('lets the remediation function also publish to the topic and dead-letter to the queue, nothing else', () => {
    const s = base;
    expect(roleStatements(s, s.stack.remediationFunction)).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(s, s.stack.remediationFunction.logGroup), 'Arn'] },
      },
      {
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(s, s.stack.deadLetterQueue), 'Arn'] },
      },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: secret },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: id(s, s.stack.notifyTopic) } },
      {
        Action: [...LEDGER_ITEM_ACTIONS],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(s, s.stack.ledger.table), 'Arn'] },
      },
    ]);
  });

  it('adds only the ENI and X-Ray actions when the functions run in a VPC with tracing', () => {
    const extra = actionsOf(roleStatements(full, full.stack.cancelFunction)).filter(
      (a) => !['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue'].includes(a),
    );
    expect(extra.sort()).toEqual(
      [
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it.each([
    ['base', base],
    ['full', full],
    ['hub and spokes', hubbed],
  ])('gives no function any kms: permission (%s context)', (_, s) => {
    for (const fn of [s.stack.cancelFunction, s.stack.remediationFunction]) {
      const actions = actionsOf(roleStatements(s, fn));
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.toLowerCase().startsWith('kms:') || a === '*')).toEqual([]);
    }
  });

  it('does not name a function role as a principal of any key (alarm topic, logs)', () => {
    const keys = Object.values(base.template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(2);
    const policies = JSON.stringify(keys.map((k) => (k.Properties as Json).KeyPolicy));
    expect(policies).not.toContain(id(base, base.stack.cancelFunction.role));
    expect(policies).not.toContain(id(base, base.stack.remediationFunction.role));
  });
});

describe('API', () => {
  it('authorizes every method with AWS_IAM', () => {
    const methods = base.template.findResources('AWS::ApiGateway::Method');
    expect(Object.keys(methods)).not.toHaveLength(0);
    for (const m of Object.values(methods)) expect((m.Properties as Json).AuthorizationType).toBe('AWS_IAM');
  });

  it('routes POST /keys/{id}/cancel-deletion and POST /aws-keys/cancel-deletion to the cancel function', () => {
    const paths = Object.values(base.template.findResources('AWS::ApiGateway::Resource')).map(
      (r) => (r.Properties as Json).PathPart,
    );
    expect(paths.sort()).toEqual(['aws-keys', 'cancel-deletion', 'cancel-deletion', 'keys', '{id}'].sort());
    const methods = Object.values(base.template.findResources('AWS::ApiGateway::Method'));
    expect(methods.map((m) => (m.Properties as Json).HttpMethod)).toEqual(['POST', 'POST']);
    for (const m of methods) {
      expect((m.Properties as Json).Integration).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: expect.anything(),
      });
      expect(JSON.stringify((m.Properties as Json).Integration)).toContain(
        id(base, base.stack.cancelFunction.function),
      );
    }
  });

  it('requires the id path parameter and validates the aws-keys body against its model', () => {
    const validatorId = Object.keys(base.template.findResources('AWS::ApiGateway::RequestValidator'))[0]!;
    base.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    base.template.hasResourceProperties('AWS::ApiGateway::Method', {
      RequestParameters: { 'method.request.path.id': true },
      RequestValidatorId: { Ref: validatorId },
    });
    base.template.hasResourceProperties('AWS::ApiGateway::Method', {
      RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('AwsKeyCancelRequest') } },
      RequestValidatorId: { Ref: validatorId },
    });
    base.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: {
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'object',
        additionalProperties: false,
        properties: {
          arn: Match.objectLike({ type: 'string' }),
          keyId: Match.objectLike({ type: 'string' }),
          region: Match.objectLike({ type: 'string' }),
          enable: { type: 'boolean' },
        },
        oneOf: [{ required: ['arn'] }, { required: ['keyId', 'region'] }],
      },
    });
  });

  it('logs access as JSON, executions at ERROR without data trace, and throttles the stage', () => {
    const stage = resource(base, id(base, base.stack.api.deploymentStage));
    expect(stage.MethodSettings).toEqual([
      {
        DataTraceEnabled: false,
        HttpMethod: '*',
        LoggingLevel: 'ERROR',
        MetricsEnabled: false,
        ResourcePath: '/*',
        ThrottlingBurstLimit: 20,
        ThrottlingRateLimit: 10,
      },
    ]);
    const access = stage.AccessLogSetting as { DestinationArn: unknown; Format: string };
    expect(access.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'] });
    const format = JSON.parse(access.Format) as Json;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      caller: '$context.identity.userArn',
      status: '$context.status',
    });
  });

  it('has no resource policy and a regional endpoint by default', () => {
    const api = resource(base, id(base, base.stack.api));
    expect(api.Policy).toBeUndefined();
    expect(api.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('restricts callers to this account, the listed accounts and the VPC endpoint when configured', () => {
    const api = resource(full, id(full, full.stack.api));
    expect(api.EndpointConfiguration).toEqual({
      Types: ['PRIVATE'],
      VpcEndpointIds: ['vpce-0123456789abcdef0'],
    });
    const statements = (api.Policy as { Statement: Json[] }).Statement;
    const thisAccount = { Ref: 'AWS::AccountId' };
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
    });
    expect(statements[1]).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: { StringNotEquals: { 'aws:PrincipalAccount': [thisAccount, '111122223333'] } },
    });
    expect(statements[2]).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' } },
    });
  });
});

describe('EventBridge', () => {
  function rule(s: Synthesized, prefix: string): Json {
    const entry = Object.entries(s.template.findResources('AWS::Events::Rule')).find(([k]) =>
      k.startsWith(prefix),
    );
    if (!entry) throw new Error(`no rule ${prefix}`);
    return entry[1].Properties as Json;
  }

  const cloudTrail = (errorCode: Json) => ({
    source: ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      eventName: ['ScheduleKeyDeletion'],
      errorCode: [errorCode],
    },
  });

  it('matches successful ScheduleKeyDeletion calls (no errorCode)', () => {
    expect(rule(base, 'ScheduleKeyDeletionRule').EventPattern).toEqual(cloudTrail({ exists: false }));
  });

  it('matches denied ScheduleKeyDeletion attempts (errorCode present) in a separate rule', () => {
    expect(rule(base, 'ScheduleKeyDeletionDeniedRule').EventPattern).toEqual(cloudTrail({ exists: true }));
  });

  it('matches the documented alarm and the guard prefix entering ALARM', () => {
    expect(rule(base, 'AlarmRule').EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: {
        alarmName: ['KMSKeyPendingDeletionErrorAlarm', { prefix: GUARD_ALARM_PREFIX }],
        state: { value: ['ALARM'] },
      },
    });
  });

  it('sweeps on the configured schedule, hourly by default', () => {
    expect(rule(base, 'SweepRule').ScheduleExpression).toBe('rate(1 hour)');
    expect(rule(full, 'SweepRule').ScheduleExpression).toBe('rate(30 minutes)');
  });

  it.each(['ScheduleKeyDeletionRule', 'ScheduleKeyDeletionDeniedRule', 'AlarmRule', 'SweepRule'])(
    '%s targets the remediation function with a retry policy and the dead-letter queue',
    (name) => {
      const targets = rule(base, name).Targets as Json[];
      expect(targets).toEqual([
        {
          Id: 'Target0',
          Arn: { 'Fn::GetAtt': [id(base, base.stack.remediationFunction.function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(base, base.stack.deadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
        },
      ]);
    },
  );

  it('lets EventBridge send dead letters to the queue only from its own rules', () => {
    const policy = resource(base, Object.keys(base.template.findResources('AWS::SQS::QueuePolicy'))[0]!);
    const statements = (policy.PolicyDocument as { Statement: Json[] }).Statement;
    const fromEvents = statements.filter((st) =>
      JSON.stringify(st.Principal).includes('events.amazonaws.com'),
    );
    // Four rules on the default bus, three on the hub bus: every one of them, and none other.
    const ruleIds = Object.keys(base.template.findResources('AWS::Events::Rule'));
    expect(ruleIds).toHaveLength(7);
    expect(fromEvents.map((st) => st.Condition)).toEqual(
      ruleIds.map((r) => ({
        ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [r, 'Arn'] } },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      })),
    );
    for (const st of fromEvents) expect(st.Action).toBe('sqs:SendMessage');
  });
});

/** Every alarm of this account and Region, as the synthesized templates spell it. */
const ALARM_ARNS = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':cloudwatch:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':alarm:*',
    ],
  ],
};

describe('queue, topics and alarms', () => {
  it('encrypts the dead-letter queue with SQS-managed keys and refuses plain HTTP', () => {
    const q = resource(base, id(base, base.stack.deadLetterQueue));
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.KmsMasterKeyId).toBeUndefined();
    base.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('encrypts the notification topic with the AWS-managed SNS key and refuses plain HTTP', () => {
    const topic = resource(base, id(base, base.stack.notifyTopic));
    expect(JSON.stringify(topic.KmsMasterKeyId)).toContain('alias/aws/sns');
    for (const t of [base.stack.notifyTopic, base.stack.alarmTopic]) {
      base.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id(base, t) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('encrypts the alarm topic with a rotated customer key that CloudWatch may use', () => {
    const topic = resource(base, id(base, base.stack.alarmTopic));
    const keyId = (topic.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const key = resource(base, keyId);
    expect(key.EnableKeyRotation).toBe(true);
    expect((key.KeyPolicy as { Statement: Json[] }).Statement).toContainEqual({
      Sid: 'AllowCloudWatchAlarmsToPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': ALARM_ARNS },
      },
    });
  });

  it('lets CloudWatch alarms of this account publish to the alarm topic', () => {
    base.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id(base, base.stack.alarmTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: id(base, base.stack.alarmTopic) },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': ALARM_ARNS },
            },
          },
        ]),
      },
    });
  });

  it('subscribes notifyEmail to both topics, and nobody without it', () => {
    for (const t of [full.stack.notifyTopic, full.stack.alarmTopic]) {
      full.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: id(full, t) },
      });
    }
    expect(Object.keys(base.template.findResources('AWS::SNS::Subscription'))).toEqual([]);
  });

  it.each([
    ['CancelDeletionErrorsAlarm', 'AWS/Lambda', 'Errors', 'cancel'],
    ['CancelDeletionThrottlesAlarm', 'AWS/Lambda', 'Throttles', 'cancel'],
    ['RemediateDeletionErrorsAlarm', 'AWS/Lambda', 'Errors', 'remediation'],
    ['RemediateDeletionThrottlesAlarm', 'AWS/Lambda', 'Throttles', 'remediation'],
  ])(
    '%s watches %s %s of the %s function and notifies the alarm topic',
    (prefix, namespace, metric, which) => {
      const fn = which === 'cancel' ? base.stack.cancelFunction : base.stack.remediationFunction;
      const [, alarm] = Object.entries(base.template.findResources('AWS::CloudWatch::Alarm')).find(([k]) =>
        k.startsWith(prefix),
      )!;
      expect(alarm.Properties).toMatchObject({
        Namespace: namespace,
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(base, fn.function) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: id(base, base.stack.alarmTopic) }],
      });
    },
  );

  it('alarms on dead-letter queue depth to the alarm topic', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [id(base, base.stack.deadLetterQueue), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
      AlarmActions: [{ Ref: id(base, base.stack.alarmTopic) }],
    });
  });

  it('names no operational alarm with the guard prefix, so an operational ALARM never triggers a sweep', () => {
    for (const a of Object.values(base.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(String((a.Properties as Json).AlarmName)).not.toMatch(new RegExp(`^${GUARD_ALARM_PREFIX}`));
    }
  });

  it('creates the documented metric filter and a guard-prefixed alarm when a CloudTrail log group is given', () => {
    full.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: 'aws-cloudtrail-logs',
      FilterPattern: PENDING_DELETION_METRIC.filterPattern,
      MetricTransformations: [
        {
          MetricNamespace: 'CloudTrailLogMetrics',
          MetricName: 'KMSKeyPendingDeletionErrorCount',
          MetricValue: '1',
        },
      ],
    });
    full.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp(`^${GUARD_ALARM_PREFIX}`),
      Namespace: 'CloudTrailLogMetrics',
      MetricName: 'KMSKeyPendingDeletionErrorCount',
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [{ Ref: id(full, full.stack.alarmTopic) }],
    });
    expect(Object.keys(base.template.findResources('AWS::Logs::MetricFilter'))).toEqual([]);
  });
});

describe('network', () => {
  it('places both functions in the given subnets with a security group that allows only HTTPS out', () => {
    for (const fn of [full.stack.cancelFunction, full.stack.remediationFunction]) {
      const vpcConfig = resource(full, id(full, fn.function)).VpcConfig as Json;
      expect(vpcConfig.SubnetIds).toEqual(['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
      expect(vpcConfig.SecurityGroupIds).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^FunctionSecurityGroup/), 'GroupId'] },
      ]);
    }
    const sg = Object.values(full.template.findResources('AWS::EC2::SecurityGroup'))[0]!.Properties as Json;
    expect(sg.VpcId).toBe('vpc-0123456789abcdef0');
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443 }),
    ]);
  });

  it('creates no network resources without vpcId', () => {
    expect(Object.keys(base.template.findResources('AWS::EC2::SecurityGroup'))).toEqual([]);
    expect(resource(base, id(base, base.stack.cancelFunction.function)).VpcConfig).toBeUndefined();
  });
});

describe('dashboard and outputs', () => {
  it('charts one Outcome series per outcome kind, plus errors, p99 duration and dead-letter depth', () => {
    const body = JSON.stringify(resource(base, id(base, base.stack.dashboard)).DashboardBody);
    for (const outcome of OUTCOMES) {
      expect(body).toContain(
        `[\\"CckmDeletionGuard\\",\\"Outcome\\",\\"outcome\\",\\"${outcome}\\",\\"service\\",\\"cckm-deletion-guard\\"`,
      );
    }
    expect(body).toContain('\\"Errors\\"');
    expect(body).toContain('p99');
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('outputs the API URL, topic ARN, DLQ URL and dashboard name', () => {
    const outputs = base.template.toJSON().Outputs as Record<string, Json>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'TopicArn', 'AlarmTopicArn', 'DlqUrl', 'DashboardName']),
    );
    expect(outputs.TopicArn!.Value).toEqual({ Ref: id(base, base.stack.notifyTopic) });
    expect(outputs.DlqUrl!.Value).toEqual({ Ref: id(base, base.stack.deadLetterQueue) });
    expect(outputs.DashboardName!.Value).toEqual({ Ref: id(base, base.stack.dashboard) });
  });

  it('synthesizes without an account or Region (environment-agnostic)', () => {
    expect(Token.isUnresolved(Stack.of(base.stack).account)).toBe(true);
    expect(Token.isUnresolved(Stack.of(base.stack).region)).toBe(true);
  });
});

describe('hub bus', () => {
  const rules = (s: Synthesized) =>
    Object.entries(s.template.findResources('AWS::Events::Rule')).map(
      ([logicalId, r]) => [logicalId, r.Properties as Json] as const,
    );
  const busId = (s: Synthesized) => id(s, s.stack.hubBus.bus);
  const onHubBus = (s: Synthesized) =>
    rules(s).filter(([, p]) => JSON.stringify(p.EventBusName) === JSON.stringify({ Ref: busId(s) }));
  const onDefaultBus = (s: Synthesized) => rules(s).filter(([, p]) => p.EventBusName === undefined);
  const ruleById = (s: Synthesized, rule: { node: { defaultChild?: unknown } }) =>
    resource(s, id(s, rule)) as Json;

  it('is the bus cckm-deletion-guard, output as HubEventBusArn', () => {
    expect(resource(base, busId(base)).Name).toBe('cckm-deletion-guard');
    const outputs = base.template.toJSON().Outputs as Record<string, Json>;
    expect(outputs.HubEventBusArn?.Value).toEqual({ 'Fn::GetAtt': [busId(base), 'Arn'] });
  });

  it.each([
    ['base', base],
    ['hub and spokes', hubbed],
  ])('holds three rules whose targets equal the default-bus rules’ (function, retry, queue) (%s)', (_, s) => {
    expect(onHubBus(s)).toHaveLength(3);
    expect(onDefaultBus(s)).toHaveLength(4);
    const expected = {
      Arn: { 'Fn::GetAtt': [id(s, s.stack.remediationFunction.function), 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(s, s.stack.deadLetterQueue), 'Arn'] } },
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
    };
    for (const [, p] of [...onHubBus(s), ...onDefaultBus(s)]) {
      const targets = p.Targets as Json[];
      expect(targets).toHaveLength(1);
      const { Id: _id, ...target } = targets[0]!;
      expect(target).toEqual(expected);
    }
  });

  it('matches forwarded ScheduleKeyDeletion with exactly the default-bus patterns, and spoke heartbeats', () => {
    const defaultRule = (prefix: string) =>
      onDefaultBus(base).find(([k]) => k.startsWith(prefix))?.[1].EventPattern;
    expect(ruleById(base, base.stack.hubBus.scheduleKeyDeletionRule).EventPattern).toEqual(
      defaultRule('ScheduleKeyDeletionRule'),
    );
    expect(ruleById(base, base.stack.hubBus.scheduleKeyDeletionDeniedRule).EventPattern).toEqual(
      defaultRule('ScheduleKeyDeletionDeniedRule'),
    );
    expect(ruleById(base, base.stack.hubBus.heartbeatRule).EventPattern).toEqual({
      source: ['aws.events'],
      'detail-type': ['Scheduled Event'],
      resources: [{ wildcard: 'arn:*:events:*:*:rule/cckm-deletion-guard-heartbeat*' }],
    });
  });

  it('admits PutEvents from the organization and the spoke accounts only when given', () => {
    expect(Object.keys(base.template.findResources('AWS::Events::EventBusPolicy'))).toEqual([]);
    const statements = Object.values(hubbed.template.findResources('AWS::Events::EventBusPolicy')).map(
      (p) => (p.Properties as Json).Statement as Json,
    );
    expect(statements).toHaveLength(2);
    for (const st of statements) {
      expect(st).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents' });
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [busId(hubbed), 'Arn'] });
    }
    expect(statements.map((st) => st.Condition ?? null)).toContainEqual({
      StringEquals: { 'aws:PrincipalOrgID': 'o-abc123defg' },
    });
    expect(JSON.stringify(statements)).toContain(':iam::777788889999:root');
  });
});

describe('scope and sweep synchronization', () => {
  it('gives both functions SCOPE_ACCOUNTS and SCOPE_REGIONS, the remediation SWEEP_SYNC too', () => {
    for (const fn of [hubbed.stack.cancelFunction, hubbed.stack.remediationFunction]) {
      expect(env(hubbed, fn)).toMatchObject({
        SCOPE_ACCOUNTS: '111122223333,444455556666',
        SCOPE_REGIONS: 'us-east-1,eu-west-1',
      });
    }
    expect(env(hubbed, hubbed.stack.remediationFunction).SWEEP_SYNC).toBe('true');
    expect(env(hubbed, hubbed.stack.cancelFunction)).not.toHaveProperty('SWEEP_SYNC');
  });

  it('defaults to everything in scope and no synchronization', () => {
    for (const fn of [base.stack.cancelFunction, base.stack.remediationFunction]) {
      expect(env(base, fn)).toMatchObject({ SCOPE_ACCOUNTS: '*', SCOPE_REGIONS: '*' });
    }
    expect(env(base, base.stack.remediationFunction).SWEEP_SYNC).toBe('false');
  });
});

describe('ledger', () => {
  const tableId = (s: Synthesized) => id(s, s.stack.ledger.table);

  it('names the table in LEDGER_TABLE of the remediation function only, and in the LedgerTableName output', () => {
    expect(env(base, base.stack.remediationFunction).LEDGER_TABLE).toEqual({ Ref: tableId(base) });
    expect(env(base, base.stack.cancelFunction)).not.toHaveProperty('LEDGER_TABLE');
    const outputs = base.template.toJSON().Outputs as Record<string, Json>;
    expect(outputs.LedgerTableName?.Value).toEqual({ Ref: tableId(base) });
  });

  it('grants exactly the ledger item actions on the table ARN, to the remediation function only', () => {
    const dynamo = (fn: GuardFunction) =>
      roleStatements(base, fn).filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
    expect(dynamo(base.stack.remediationFunction)).toEqual([
      {
        Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [tableId(base), 'Arn'] },
      },
    ]);
    expect(dynamo(base.stack.cancelFunction)).toEqual([]);
  });

  it('is on-demand, with point-in-time recovery, deletion protection, TTL and retained', () => {
    const table = (base.template.toJSON().Resources as Record<string, Json>)[tableId(base)]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe('alarms on the functions’ own metrics', () => {
  it.each([
    ['NotificationsFailed', 'Sum', 300],
    ['LedgerErrors', 'Sum', 300],
    ['SilentSpokes', 'Maximum', 3600],
  ])(
    'alarms on %s (%s over %i s) >= 1, to the alarm topic, missing data not breaching',
    (metric, stat, period) => {
      const alarms = Object.values(base.template.findResources('AWS::CloudWatch::Alarm')).filter(
        (a) => (a.Properties as Json).MetricName === metric,
      );
      expect(alarms).toHaveLength(1);
      expect(alarms[0]!.Properties).toEqual({
        AlarmName: expect.stringMatching(/^CckmDeletionGuard-/),
        AlarmDescription: expect.any(String),
        Namespace: 'CckmDeletionGuard',
        MetricName: metric,
        // Powertools' one dimension: any other would name a series the functions never write.
        Dimensions: [{ Name: 'service', Value: 'cckm-deletion-guard' }],
        Statistic: stat,
        Period: period,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: id(base, base.stack.alarmTopic) }],
      });
    },
  );

  it('shows keys per source account and Region from Logs Insights over the audit log, not metric dimensions', () => {
    const body = JSON.stringify(resource(base, id(base, base.stack.dashboard)).DashboardBody);
    const logGroup = id(base, base.stack.remediationFunction.logGroup);
    expect(body).toContain(`{"Ref":"${logGroup}"}`);
    expect(body).toContain('\\"type\\":\\"log\\"');
    expect(body).toContain('filter ispresent(outcome)');
    expect(body).toContain('stats count(*) as keys by sourceAccount, sourceRegion, outcome');
    expect(body).toContain('coalesce(account, key.account) as sourceAccount');
    expect(body).not.toMatch(/\\"(account|region)\\",\\"/);
  });
});
