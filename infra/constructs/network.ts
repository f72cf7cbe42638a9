import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { GuardFunctionProps } from './guard-function.ts';

/** Where the functions run when the operator gives a VPC: its subnets and a security group. */
export interface FunctionNetworkProps {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** CipherTrust Manager's origin: a port other than 443 gets its own egress rule. */
  readonly cckmUrl: string;
}

/**
 * The imported VPC, its subnets and an HTTPS-out-only security group, added to `scope` directly so the
 * logical ids stay those of a deployed stack. No lookups: synth stays offline.
 */
export function functionNetwork(
  scope: Construct,
  props: FunctionNetworkProps,
): NonNullable<GuardFunctionProps['vpc']> {
  // The AZ list is never consulted because the subnets are explicit.
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: props.vpcId, availabilityZones: Fn.getAzs() });
  const securityGroup = new ec2.SecurityGroup(scope, 'FunctionSecurityGroup', {
    vpc,
    description: 'CCKM Deletion Guard functions: HTTPS out only (CipherTrust Manager, Secrets Manager, SNS)',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    'HTTPS to CipherTrust Manager and AWS APIs',
  );
  const port = new URL(props.cckmUrl).port;
  const cckmPort = port === '' ? 443 : Number(port);
  if (cckmPort !== 443) {
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(cckmPort), 'CipherTrust Manager port');
  }
  return {
    vpc,
    subnets: { subnets: props.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(scope, `Subnet${i}`, id)) },
    securityGroup,
  };
}
