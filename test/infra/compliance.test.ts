import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { controlTowerChecks } from '../../infra/compliance.ts';
import { addDeletionGuard, addGuardStacks } from '../../infra/guard-app.ts';
import type { Synthesized } from './helpers.ts';
import { HUB_CONTEXT, PROJECT_ROOT, REQUIRED_CONTEXT, synth } from './helpers.ts';

const STUB = lambda.Code.fromInline('exports.handler = async () => ({});');

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: unknown; AWS?: unknown };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: unknown[];
  suppressedViolations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
}

const OPTIONAL = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0',
  tracing: 'true',
  allowedAccounts: '111122223333',
  vpcEndpointId: 'vpce-0123456789abcdef0',
  cloudTrailLogGroupName: 'aws-cloudtrail-logs',
  notifyEmail: 'ops@example.com',
};
const base = synth();
const full = synth(OPTIONAL);

function controlTowerReport(s: Synthesized): PluginReport {
  const assembly = s.app.synth();
  const report = JSON.parse(readFileSync(`${assembly.directory}/validation-report.json`, 'utf8')) as {
    pluginReports: PluginReport[];
  };
  const ct = report.pluginReports.find((r) => r.pluginName === 'cdk-validator-cfnguard');
  if (!ct) throw new Error('the Control Tower plugin did not run');
  return ct;
}

const resources = (s: Synthesized, type: string) => Object.entries(s.template.findResources(type));
const props = (r: Json) => r.Properties as Json;
const statementsOf = (doc: unknown) => (doc as { Statement: Statement[] }).Statement;

describe('AWS Control Tower proactive controls', () => {
  it.each([
    [
      'required context only',
      base,
      [
        'api_gw_xray_enabled_check',
        'lambda_function_public_access_prohibited_check',
        'lambda_inside_vpc_check',
        'sqs_dlq_check',
      ],
    ],
    [
      'every optional feature on (VPC, tracing, private API, alarm)',
      full,
      ['lambda_function_public_access_prohibited_check', 'sqs_dlq_check'],
    ],
  ])('runs in synthesis with no unacknowledged finding: %s', (_, s, acknowledged) => {
    const report = controlTowerReport(s);
    expect(report.conclusion).toBe('success');
    expect(report.violations).toEqual([]);
    expect([...new Set(report.suppressedViolations?.map((v) => v.ruleName))].sort()).toEqual(acknowledged);
  });

  it('runs on every stack with the full hub-and-spoke context, no unacknowledged finding', () => {
    const s = synth(HUB_CONTEXT);
    const assembly = s.app.synth();
    expect(assembly.stacks.map((st) => st.stackName).sort()).toEqual([
      'CckmDeletionGuard',
      'CckmDeletionGuardOrgSpokes',
      'CckmDeletionGuardSpoke-eu-west-1',
    ]);
    const report = controlTowerReport(s);
    expect(report.conclusion).toBe('success');
    expect(report.violations).toEqual([]);
    // What is acknowledged on the hub and nowhere else (the spokes' queue is a DLQ with a redrive policy).
    expect([...new Set(report.suppressedViolations?.map((v) => v.ruleName))].sort()).toEqual([
      'api_gw_xray_enabled_check',
      'cloudwatch_alarm_action_check',
      'lambda_function_public_access_prohibited_check',
      'lambda_inside_vpc_check',
      'sqs_dlq_check',
    ]);
  });

  it.each(['CckmDeletionGuardSpoke-eu-west-1', 'CckmDeletionGuardOrgSpokes'])(
    'is registered app-wide by the wiring: an unencrypted log group in %s fails synthesis',
    (stackName) => {
      const app = new App({
        builtinCloudFormationValidation: false,
        context: { 'aws:cdk:bundling-stacks': [], ...REQUIRED_CONTEXT, ...HUB_CONTEXT },
      });
      const { stacks } = addGuardStacks(app, {
        projectRoot: PROJECT_ROOT,
        code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
        cli: {},
      });
      const stack = stacks.find((st) => st.stackName === stackName);
      if (stack === undefined) throw new Error(`no stack ${stackName}`);
      const plain = new logs.LogGroup(stack, 'Plain', { retention: logs.RetentionDays.ONE_YEAR });
      Validations.of(plain).acknowledge({
        id: 'AwsSolutions-CWL1',
        reason: 'Probe for the Control Tower plugin.',
      });
      expect(() => app.synth()).toThrow(/cloudwatch_log_group_encrypted_check/);
    },
  );

  it('acknowledges the dead-letter queue only, not every queue, for CT.SQS.PR.1', () => {
    const dlq = controlTowerReport(base).suppressedViolations?.find((v) => v.ruleName === 'sqs_dlq_check');
    expect(dlq?.violatingConstructs.map((c) => c.constructPath)).toEqual([
      'CckmDeletionGuard/DeadLetterQueue/Resource',
    ]);
  });

  it('is live: an unencrypted log group kept for a day is reported', () => {
    const app = new App();
    new logs.LogGroup(new Stack(app, 'Probe'), 'Plain', { retention: logs.RetentionDays.ONE_DAY });
    const template = `${app.synth().directory}/Probe.template.json`;
    const report = controlTowerChecks().validate({ templatePaths: [template], appConstruct: app });
    expect(report.violations.map((v) => v.ruleName)).toContain('cloudwatch_log_group_encrypted_check');
  });

  it('is registered by the app wiring: an unencrypted log group in the guard stack fails synthesis', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], ...REQUIRED_CONTEXT },
    });
    const stack = addDeletionGuard(app, {
      projectRoot: PROJECT_ROOT,
      code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
    });
    const plain = new logs.LogGroup(stack, 'Plain', { retention: logs.RetentionDays.ONE_YEAR });
    // Not the cdk-nag finding under test: the Control Tower plugin must refuse it on its own.
    Validations.of(plain).acknowledge({
      id: 'AwsSolutions-CWL1',
      reason: 'Probe for the Control Tower plugin.',
    });
    expect(() => app.synth()).toThrow(/cloudwatch_log_group_encrypted_check/);
  });
});

describe('encrypted audit logs', () => {
  it.each([
    ['base', base],
    ['full', full],
  ])('encrypts every log group with the stack logs key (%s context)', (_, s) => {
    const [[keyId, key]] = resources(s, 'AWS::KMS::Key').filter(([, k]) =>
      JSON.stringify(props(k).KeyPolicy).includes('kms:EncryptionContext:aws:logs:arn'),
    ) as [[string, Json]];
    expect(props(key).EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const groups = resources(s, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const [, group] of groups) expect(props(group).KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('lets only CloudWatch Logs of this account and Region use the logs key, for its log groups', () => {
    const key = resources(base, 'AWS::KMS::Key')
      .map(([, k]) => statementsOf(props(k).KeyPolicy))
      .find((st) => JSON.stringify(st).includes('kms:EncryptionContext:aws:logs:arn'))!;
    const logs = key.find((st) => st.Sid === 'AllowCloudWatchLogsOfThisAccountAndRegion')!;
    expect(logs.Effect).toBe('Allow');
    expect(logs.Principal?.Service).toEqual({
      'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
    });
    expect(logs.Condition).toEqual({
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':log-group:*',
            ],
          ],
        },
      },
    });
    expect(JSON.stringify(logs.Action)).not.toContain('kms:*');
  });
});

describe('confused-deputy guards', () => {
  it.each([
    ['base', base],
    ['full', full],
  ])('gives every Lambda permission a SourceAccount and a SourceArn (%s context)', (_, s) => {
    const permissions = resources(s, 'AWS::Lambda::Permission');
    expect(permissions.length).toBeGreaterThanOrEqual(6);
    for (const [, p] of permissions) {
      expect(props(p).SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      expect(props(p).SourceArn).toBeDefined();
    }
  });

  it('limits grants on every key to AWS services', () => {
    const keys = resources(base, 'AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    for (const [, key] of keys) {
      expect(statementsOf(props(key).KeyPolicy)).toContainEqual({
        Sid: 'DenyGrantsExceptForAwsServices',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: {
          BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
        },
      });
    }
  });

  it('pins every key and queue policy statement that admits an AWS service to this account', () => {
    const documents = [
      ...resources(base, 'AWS::KMS::Key').map(([, k]) => props(k).KeyPolicy),
      ...resources(base, 'AWS::SQS::QueuePolicy').map(([, q]) => props(q).PolicyDocument),
    ];
    const admitting = documents
      .flatMap(statementsOf)
      .filter((st) => st.Effect === 'Allow' && st.Principal?.Service);
    expect(admitting.length).toBeGreaterThanOrEqual(6);
    for (const st of admitting) {
      const conditions = JSON.stringify(st.Condition);
      // CloudWatch Logs is pinned by the log group ARN it names in the encryption context (its documented key).
      const pinned =
        (conditions.includes('aws:SourceAccount') && conditions.includes('aws:SourceArn')) ||
        conditions.includes('kms:EncryptionContext:aws:logs:arn');
      expect(pinned, JSON.stringify(st)).toBe(true);
    }
  });
});
