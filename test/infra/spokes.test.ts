import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { parseHubContext } from '../../infra/hub-context.ts';
import { spokeTemplateBody, TEMPLATE_BODY_LIMIT_BYTES } from '../../infra/org-spokes-stack.ts';
import { SPOKE_CONDITION } from '../../infra/spoke-stack.ts';
import { addSpokes, spokeStacks } from '../../infra/spokes.ts';
import { nagFindings } from './helpers.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };

const HUB = { account: '111122223333', region: 'us-east-1' };
const ISSUE_CONTEXT = {
  hubAccount: HUB.account,
  hubRegion: HUB.region,
  organizationId: 'o-abc123defg',
  spokeOrgUnits: 'ou-ab12-cdefgh34',
  spokeRegions: 'us-east-1,eu-west-1',
};
const HUB_BUS_ARN_TAIL = `:events:${HUB.region}:${HUB.account}:event-bus/cckm-deletion-guard`;
const HUB_BUS_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, HUB_BUS_ARN_TAIL]] };

function spokes(context: Record<string, unknown> = ISSUE_CONTEXT) {
  const app = new App();
  const added = addSpokes(app, parseHubContext(context));
  return { app, added };
}

/** The spoke template exactly as the StackSet carries it. */
function stackSetSpoke() {
  const body = spokeTemplateBody(HUB);
  return { body, template: Template.fromJSON(JSON.parse(body) as Record<string, unknown>) };
}

describe('addSpokes', () => {
  it('adds one spoke stack per spoke Region of the hub account, skipping the hub Region, and the org stack', () => {
    const { added } = spokes({ ...ISSUE_CONTEXT, spokeRegions: 'us-east-1,eu-west-1,ap-south-1' });
    expect(added.regional.map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['CckmDeletionGuardSpoke-eu-west-1', HUB.account, 'eu-west-1'],
      ['CckmDeletionGuardSpoke-ap-south-1', HUB.account, 'ap-south-1'],
    ]);
    expect(added.organization?.stackName).toBe('CckmDeletionGuardOrgSpokes');
  });

  it('deploys the regional spokes after the hub stack, the organization stack independently', () => {
    const app = new App();
    const hubStack = new Stack(app, 'CckmDeletionGuard', {
      env: { account: HUB.account, region: HUB.region },
    });
    const added = addSpokes(app, parseHubContext(ISSUE_CONTEXT), { hubStack });
    for (const spoke of added.regional) expect(spoke.dependencies).toContain(hubStack);
    expect(added.organization?.dependencies).toEqual([]);
  });

  it('adds no organization stack without spokeOrgUnits, and nothing without spokes', () => {
    expect(spokes({ ...ISSUE_CONTEXT, spokeOrgUnits: undefined }).added.organization).toBeUndefined();
    expect(spokeStacks(spokes({}).added)).toEqual([]);
  });

  it('refuses a hand-built settings object that asks for spokes without a hub', () => {
    const settings = { ...parseHubContext({}), spokeRegions: ['eu-west-1'] };
    expect(() => addSpokes(new App(), settings)).toThrow(/hubAccount and hubRegion/);
  });
});

describe.each([
  ['the regional spoke stack', () => Template.fromStack(spokes().added.regional[0] as Stack)],
  ['the StackSet template body', () => stackSetSpoke().template],
])('%s', (_name, load) => {
  const template = load();
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const rules = template.findResources('AWS::Events::Rule') as Record<string, Resource>;
  const rule = (name: string) => {
    const found = Object.values(rules).find((r) => r.Properties.Name === name);
    if (found === undefined) throw new Error(`no rule ${name}`);
    return found;
  };
  const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));
  const [roleId] = Object.keys(template.findResources('AWS::IAM::Role'));

  it('forwards CloudTrail ScheduleKeyDeletion from KMS, successful and denied, on the default bus', () => {
    const forward = rule('cckm-deletion-guard-forward');
    expect(forward.Properties.EventBusName).toBeUndefined();
    expect(forward.Properties.EventPattern).toEqual({
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['kms.amazonaws.com'], eventName: ['ScheduleKeyDeletion'] },
    });
  });

  it('sends a heartbeat every hour', () => {
    expect(rule('cckm-deletion-guard-heartbeat').Properties.ScheduleExpression).toBe('rate(1 hour)');
  });

  it('targets the hub bus from both rules through the role, with the dead-letter queue', () => {
    expect(Object.keys(rules)).toHaveLength(2);
    for (const r of Object.values(rules)) {
      expect(r.Properties.Targets).toEqual([
        {
          Id: expect.any(String),
          Arn: HUB_BUS_ARN,
          RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        },
      ]);
    }
  });

  it('lets the role do nothing but events:PutEvents on the hub bus ARN, assumed by EventBridge only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } },
        ],
      },
    });
    expect(resources[roleId as string]?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(resources[roleId as string]?.Properties.Policies).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>);
    expect(policies.map((p) => p.Properties.PolicyDocument)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS_ARN }],
      },
    ]);
  });

  it('keeps dead letters in an encrypted, TLS-only queue with an alarm on its depth', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('pins each EventBridge statement of the queue policy to its rule and to the spoke account', () => {
    const policies = Object.values(
      template.findResources('AWS::SQS::QueuePolicy') as Record<string, Resource>,
    );
    const statements = policies.flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const fromEvents = statements.filter((st) =>
      JSON.stringify(st.Principal).includes('events.amazonaws.com'),
    );
    expect(fromEvents.map((st) => st.Condition)).toEqual(
      Object.keys(rules).map((ruleId) => ({
        ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } },
        // The regional spoke names its account; the StackSet's copy takes each member account's own.
        StringEquals: { 'aws:SourceAccount': expect.toBeOneOf([HUB.account, { Ref: 'AWS::AccountId' }]) },
      })),
    );
  });

  it('holds no function, secret or asset', () => {
    const types = new Set(Object.values(resources).map((r) => r.Type));
    expect([...types].filter((t) => /Lambda|SecretsManager|S3/.test(t))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/cdk-hnb659fds|BootstrapVersion|AssetParameters/);
  });

  it('creates nothing in the hub account and Region: every resource is under the condition', () => {
    expect(template.toJSON().Conditions[SPOKE_CONDITION]).toEqual({
      'Fn::Not': [
        {
          'Fn::And': [
            { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, HUB.account] },
            { 'Fn::Equals': [{ Ref: 'AWS::Region' }, HUB.region] },
          ],
        },
      ],
    });
    // All but a wait condition handle: a stack must keep one resource once conditions are evaluated, and
    // that one creates nothing in AWS.
    const unconditioned = Object.values(resources).filter((r) => r.Condition !== SPOKE_CONDITION);
    expect(unconditioned).toEqual([{ Type: 'AWS::CloudFormation::WaitConditionHandle' }]);
  });
});

describe('the organization StackSet', () => {
  const { added } = spokes();
  const org = added.organization;
  if (org === undefined) throw new Error('no organization stack');
  const template = Template.fromStack(org);
  const [stackSet] = Object.values(
    template.findResources('AWS::CloudFormation::StackSet') as Record<string, Resource>,
  );
  const p = stackSet?.Properties ?? {};

  it('is service-managed with auto-deployment on, called as SELF by default', () => {
    expect(p.PermissionModel).toBe('SERVICE_MANAGED');
    expect(p.AutoDeployment).toEqual({ Enabled: true, RetainStacksOnAccountRemoval: false });
    expect(p.CallAs).toBe('SELF');
    expect(p.Capabilities).toEqual(['CAPABILITY_IAM']);
  });

  it('targets the listed OUs in the listed Regions, in parallel with a failure tolerance', () => {
    expect(p.StackInstancesGroup).toEqual([
      {
        DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cdefgh34'] },
        Regions: ['us-east-1', 'eu-west-1'],
      },
    ]);
    expect(p.OperationPreferences).toMatchObject({
      RegionConcurrencyType: 'PARALLEL',
      FailureTolerancePercentage: expect.any(Number),
      MaxConcurrentPercentage: expect.any(Number),
    });
  });

  it('calls as DELEGATED_ADMIN when asked', () => {
    const delegated = spokes({ ...ISSUE_CONTEXT, stackSetCallAs: 'DELEGATED_ADMIN' }).added.organization;
    template.hasResourceProperties('AWS::CloudFormation::StackSet', { CallAs: 'SELF' });
    Template.fromStack(delegated as Stack).hasResourceProperties('AWS::CloudFormation::StackSet', {
      CallAs: 'DELEGATED_ADMIN',
    });
  });

  it('carries the spoke template inline, under the 51,200-byte TemplateBody limit', () => {
    expect(typeof p.TemplateBody).toBe('string');
    expect(p.TemplateBody).toBe(stackSetSpoke().body);
    const bytes = Buffer.byteLength(p.TemplateBody as string, 'utf8');
    expect(org.templateBodyBytes).toBe(bytes);
    expect(bytes).toBeLessThan(TEMPLATE_BODY_LIMIT_BYTES);
    expect(p.TemplateURL).toBeUndefined();
  });

  it('needs no bootstrap in the account that deploys it (no asset, no bootstrap-version rule)', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/BootstrapVersion/);
    expect(org.account).toMatch(/^\$\{Token/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding on the spoke and organization stacks', () => {
    const { app } = spokes();
    expect(nagFindings(app)).toEqual([]);
  });

  it('is live on these stacks: a plain queue added to a spoke is reported', () => {
    const { app, added } = spokes();
    new sqs.Queue(added.regional[0] as Stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(nagFindings(app).some((f) => f.startsWith('AwsSolutions-SQS4 '))).toBe(true);
  });
});

/**
 * The cfn-guard violations left after acknowledgements, read from the validation report: the plugin
 * concludes "success" once any violation of a rule is acknowledged, so synthesis alone does not tell.
 */
function guardViolations(extra?: (spoke: Stack) => void): string[] {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'spokes-guard-')) });
  Validations.of(app).addPlugins(new CfnGuardValidator());
  const { regional } = addSpokes(app, parseHubContext(ISSUE_CONTEXT));
  extra?.(regional[0] as Stack);
  try {
    app.synth();
  } catch {
    // A failed conclusion throws; the report below says why.
  }
  try {
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    return report.pluginReports.flatMap((r) =>
      r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
    );
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

describe('AWS Control Tower proactive controls (cfn-guard)', () => {
  it('pass on the spoke and organization stacks', () => {
    expect(guardViolations()).toEqual([]);
  });

  it('is live: an alarm without an action in a spoke is reported', () => {
    const violations = guardViolations((spoke) => {
      new cloudwatch.Alarm(spoke, 'Bare', {
        metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    });
    expect(violations).toEqual([
      'cloudwatch_alarm_action_check at CckmDeletionGuardSpoke-eu-west-1/Bare/Resource',
    ]);
  });
});
