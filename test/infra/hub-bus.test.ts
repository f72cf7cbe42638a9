import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { HubBus, type HubBusProps } from '../../infra/constructs/hub-bus.ts';
import { nagFindings, synth } from './helpers.ts';

type Resource = { Properties: Record<string, unknown> };

function hub(props: Partial<Omit<HubBusProps, 'target' | 'deadLetterQueue'>> = {}) {
  const stack = new Stack(new App(), 'Hub', { env: { account: '111122223333', region: 'us-east-1' } });
  const fn = new lambda.Function(stack, 'Remediate', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  const dlq = new sqs.Queue(stack, 'Dlq');
  const hubBus = new HubBus(stack, 'HubBus', {
    target: fn,
    deadLetterQueue: dlq,
    retryAttempts: 8,
    maxEventAge: Duration.hours(2),
    ...props,
  });
  const template = Template.fromStack(stack);
  const ids = {
    fn: stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction),
    dlq: stack.getLogicalId(dlq.node.defaultChild as sqs.CfnQueue),
    bus: stack.getLogicalId(hubBus.bus.node.defaultChild as events.CfnEventBus),
  };
  return { template, ids };
}

function statements(template: Template) {
  return Object.values(template.findResources('AWS::Events::EventBusPolicy') as Record<string, Resource>).map(
    (r) => r.Properties.Statement as Record<string, unknown>,
  );
}

const busArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('HubBus', () => {
  it('names the bus cckm-deletion-guard and outputs its ARN as HubEventBusArn', () => {
    const { template, ids } = hub();
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'cckm-deletion-guard' });
    template.hasOutput('HubEventBusArn', { Value: busArn(ids.bus) });
  });

  it('has no bus policy without an organization or spoke accounts', () => {
    expect(statements(hub().template)).toEqual([]);
  });

  it('admits PutEvents from the whole organization only, through aws:PrincipalOrgID', () => {
    const { template, ids } = hub({ organizationId: 'o-abc123defg' });
    const [statement, ...rest] = statements(template);
    expect(rest).toEqual([]);
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Principal: '*',
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123defg' } },
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({ Resource: busArn(ids.bus) }),
    });
  });

  it('admits PutEvents from the listed spoke accounts by their account principals', () => {
    const { template } = hub({ spokeAccounts: ['444455556666', '777788889999'] });
    const [statement, ...rest] = statements(template);
    expect(rest).toEqual([]);
    expect(statement?.Action).toBe('events:PutEvents');
    expect(statement?.Condition).toBeUndefined();
    expect(JSON.stringify(statement?.Principal)).toContain(':iam::444455556666:root');
    expect(JSON.stringify(statement?.Principal)).toContain(':iam::777788889999:root');
  });

  it('holds both statements when an organization and spoke accounts are given', () => {
    const conditions = statements(
      hub({ organizationId: 'o-abc123defg', spokeAccounts: ['444455556666'] }).template,
    )
      .map((s) => JSON.stringify(s.Condition ?? null))
      .sort();
    expect(conditions).toEqual(['null', '{"StringEquals":{"aws:PrincipalOrgID":"o-abc123defg"}}']);
  });

  describe('rules on the hub bus', () => {
    const { template, ids } = hub({ organizationId: 'o-abc123defg' });
    const rules = template.findResources('AWS::Events::Rule') as Record<string, Resource>;
    const patterns = Object.values(rules).map((r) => r.Properties.EventPattern);

    it('are all on the hub bus, none on the default bus', () => {
      expect(Object.keys(rules)).toHaveLength(3);
      for (const r of Object.values(rules)) expect(r.Properties.EventBusName).toEqual({ Ref: ids.bus });
    });

    it('match forwarded CloudTrail ScheduleKeyDeletion, successful and denied', () => {
      for (const exists of [false, true]) {
        expect(patterns).toContainEqual({
          source: ['aws.kms'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['kms.amazonaws.com'],
            eventName: ['ScheduleKeyDeletion'],
            errorCode: [{ exists }],
          },
        });
      }
    });

    it('match spoke heartbeats by the heartbeat rule named in resources', () => {
      expect(patterns).toContainEqual({
        source: ['aws.events'],
        'detail-type': ['Scheduled Event'],
        resources: [{ wildcard: 'arn:*:events:*:*:rule/cckm-deletion-guard-heartbeat*' }],
      });
    });

    it('each target the remediation function with the given retry policy and dead-letter queue', () => {
      for (const r of Object.values(rules)) {
        expect(r.Properties.Targets).toEqual([
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [ids.fn, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } },
          }),
        ]);
      }
    });

    it('let EventBridge invoke the function from each rule only', () => {
      const permissions = Object.values(
        template.findResources('AWS::Lambda::Permission') as Record<string, Resource>,
      );
      const sources = permissions.map((p) => p.Properties.SourceArn);
      for (const id of Object.keys(rules)) expect(sources).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
      for (const p of permissions) expect(p.Properties.Principal).toBe('events.amazonaws.com');
    });
  });

  it('adds no cdk-nag finding inside the guard stack, which wires it to its function and queue', () => {
    const { app, template } = synth({ organizationId: 'o-abc123defg', spokeAccounts: '444455556666' });
    // Both bus-policy statements (organization, accounts) are in the checked stack.
    template.resourceCountIs('AWS::Events::EventBusPolicy', 2);
    expect(nagFindings(app)).toEqual([]);
  });
});
