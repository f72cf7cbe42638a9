import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { addDeletionGuard, addGuardStacks } from '../../infra/guard-app.ts';
import { HUB_CONTEXT, nagFindings, PROJECT_ROOT, REQUIRED_CONTEXT, synth } from './helpers.ts';

const STUB = lambda.Code.fromInline('exports.handler = async () => ({});');

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding with the required context only', () => {
    expect(nagFindings(synth().app)).toEqual([]);
  });

  it('has no unacknowledged finding with every optional feature on (VPC, tracing, private API, alarm)', () => {
    const { app } = synth({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0',
      tracing: 'true',
      allowedAccounts: '111122223333',
      vpcEndpointId: 'vpce-0123456789abcdef0',
      cloudTrailLogGroupName: 'aws-cloudtrail-logs',
      notifyEmail: 'ops@example.com',
      reservedConcurrency: '2',
    });
    expect(nagFindings(app)).toEqual([]);
  });

  it('has no unacknowledged finding on any stack with the full hub-and-spoke context', () => {
    const { app } = synth(HUB_CONTEXT);
    // Not vacuous: the spokes are in the app the findings were computed on.
    expect(app.node.children.map((c) => c.node.id).filter((n) => n.startsWith('Cckm'))).toEqual([
      'CckmDeletionGuard',
      'CckmDeletionGuardSpoke-eu-west-1',
      'CckmDeletionGuardOrgSpokes',
    ]);
    expect(nagFindings(app)).toEqual([]);
  });

  it('is registered app-wide by the wiring: a finding in a spoke stack fails synthesis', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], ...REQUIRED_CONTEXT, ...HUB_CONTEXT },
    });
    const { spokes } = addGuardStacks(app, {
      projectRoot: PROJECT_ROOT,
      code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
      cli: {},
    });
    new sqs.Queue(spokes.regional[0] as Stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('leaves an empty validation report after a full synthesis with CloudFormation validation on', () => {
    const { app } = synth({}, { cfnValidation: true });
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(`${assembly.directory}/validation-report.json`, 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    // cdk-nag reports nothing; the Control Tower plugin reports only acknowledged (suppressed) findings.
    expect(report.pluginReports.map((r) => [r.pluginName, r.conclusion, r.violations])).toEqual([
      ['cdk-validator-cfnguard', 'success', []],
    ]);
  });

  it('is live: an unencrypted queue without TLS enforcement is reported', () => {
    // Guards against a vacuous zero: the same helper must see findings on a non-compliant resource.
    const app = new App();
    new sqs.Queue(new Stack(app, 'Probe'), 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const findings = nagFindings(app);
    expect(findings.some((f) => f.startsWith('AwsSolutions-SQS3 '))).toBe(true);
    expect(findings.some((f) => f.startsWith('AwsSolutions-SQS4 '))).toBe(true);
  });

  it('is registered by the app wiring: an unacknowledged finding fails synthesis (as `cdk synth` would)', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], ...REQUIRED_CONTEXT },
    });
    const stack = addDeletionGuard(app, {
      projectRoot: PROJECT_ROOT,
      code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
    });
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('records every acknowledgement with a reason of at least one sentence', () => {
    const { app } = synth({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0',
      tracing: 'true',
    });
    const acks = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    // cdk-nag v3 reads acknowledgements recorded under CDK's annotation namespace.
    const nagAcks = acks
      .map(([rule]) => rule.replace(/^Annotation::/, ''))
      .filter((r) => r.startsWith('AwsSolutions-'));
    expect(nagAcks.sort()).toEqual(
      [
        'AwsSolutions-APIG3',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-SQS3',
      ].sort(),
    );
    for (const [, reason] of acks) expect(reason.length).toBeGreaterThan(40);
  });
});
