import { resolve } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_RUNTIME_ENV } from '../bundling.ts';
import { nodejsBundlingOptions } from '../cdk-bundling.ts';

export interface GuardFunctionProps {
  /** Entry file, absolute or relative to `projectRoot`. */
  readonly entry: string;
  /** Directory holding package.json, package-lock.json and tsconfig.json. */
  readonly projectRoot: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** The caller's environment; it wins over the house defaults (NODE_OPTIONS, ...). */
  readonly environment?: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** Customer-managed key of the log group (CloudWatch Logs uses it; the role gets no kms: action). */
  readonly logKey?: kms.IKey;
  readonly tracing?: boolean;
  /**
   * Not set by default: reserving concurrency fails the deployment in accounts whose unreserved
   * concurrency would drop below the minimum (new accounts), so it is opt-in.
   */
  readonly reservedConcurrentExecutions?: number;
  readonly vpc?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroup: ec2.ISecurityGroup;
  };
  /** Asynchronous invocation settings (EventBridge invokes asynchronously). */
  readonly async?: {
    readonly onFailure: lambda.IDestination;
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
  };
  /** Test-only: prebuilt code instead of bundling the entry (for stacks synthesized before an entry exists). */
  readonly code?: lambda.Code;
}

/**
 * The house Lambda function: Node.js 24 on arm64, an ESM bundle built from the shared bundling
 * definition, its own log group, and a role that holds only what is granted to it explicitly.
 */
export class GuardFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GuardFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      // The log holds the audit trail of every decision: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An explicit role instead of the default one, which would carry the AWSLambdaBasicExecutionRole
    // managed policy (logs on every log group): this role may write to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    this.logGroup.grantWrite(this.role);

    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants, written out so no managed policy is attached.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // House defaults first, so the caller's values win and are never overwritten.
      environment: { ...BUNDLE_RUNTIME_ENV, ...props.environment },
      ...(props.vpc
        ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups: [props.vpc.securityGroup] }
        : {}),
      ...(props.async ?? {}),
      ...(props.code
        ? { code: props.code, handler: 'index.handler' }
        : {
            // Resolved against the project, not the working directory the CLI happens to run in.
            entry: resolve(props.projectRoot, props.entry),
            handler: 'handler',
            projectRoot: props.projectRoot,
            depsLockFilePath: resolve(props.projectRoot, 'package-lock.json'),
            bundling: nodejsBundlingOptions(),
          }),
    });
  }
}
