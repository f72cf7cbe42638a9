import type { CfnElement } from 'aws-cdk-lib';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { GuardFunction } from '../../infra/constructs/guard-function.ts';
import { PROJECT_ROOT } from './helpers.ts';

function make(props: Partial<ConstructorParameters<typeof GuardFunction>[2]> = {}) {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'T');
  const fn = new GuardFunction(stack, 'Fn', {
    entry: 'functions/cancel-deletion.ts',
    projectRoot: PROJECT_ROOT,
    description: 'test',
    memorySize: 256,
    timeout: Duration.seconds(10),
    logRetention: logs.RetentionDays.ONE_MONTH,
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    ...props,
  });
  const template = Template.fromStack(stack);
  const fnProps = Object.values(template.findResources('AWS::Lambda::Function'))[0]!.Properties as Record<
    string,
    unknown
  >;
  return { stack, fn, template, fnProps };
}

describe('GuardFunction', () => {
  it('merges the caller environment over the house defaults without dropping either', () => {
    const { fnProps } = make({
      environment: { APP_FLAG: '1', NODE_OPTIONS: '--enable-source-maps --max-old-space-size=200' },
    });
    expect(fnProps.Environment).toEqual({
      Variables: { APP_FLAG: '1', NODE_OPTIONS: '--enable-source-maps --max-old-space-size=200' },
    });
    expect(make({ environment: { APP_FLAG: '1' } }).fnProps.Environment).toEqual({
      Variables: { APP_FLAG: '1' },
    });
  });

  it('uses the explicit memory, timeout and log retention it is given', () => {
    const { fnProps, template } = make();
    expect(fnProps).toMatchObject({
      MemorySize: 256,
      Timeout: 10,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it('attaches no managed policy, even in a VPC', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'V');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['a'],
    });
    const fn = new GuardFunction(stack, 'Fn', {
      entry: 'functions/cancel-deletion.ts',
      projectRoot: PROJECT_ROOT,
      description: 'test',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention: logs.RetentionDays.ONE_MONTH,
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      vpc: {
        vpc,
        subnets: { subnets: [ec2.Subnet.fromSubnetId(stack, 'S', 'subnet-0123456789abcdef0')] },
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0'),
      },
    });
    const template = Template.fromStack(stack);
    const role = template.toJSON().Resources[stack.getLogicalId(fn.role.node.defaultChild as CfnElement)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-0123456789abcdef0'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
  });

  it('turns on active X-Ray tracing only when asked', () => {
    expect(make().fnProps.TracingConfig).toBeUndefined();
    expect(make({ tracing: true }).fnProps.TracingConfig).toEqual({ Mode: 'Active' });
  });
});
