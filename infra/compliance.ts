import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type {
  IAspect,
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';
import { Aspects, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';

/**
 * The compliance rule sets every synthesis runs, and the one way to acknowledge a Control Tower rule.
 * An acknowledgement is recorded next to its construct (Validations.acknowledge), so it silences that
 * resource only, never the rule for the whole app as the plugin's `disabledRules` would.
 */

/** Plugin name of the Control Tower proactive controls: the namespace of their acknowledgement ids. */
const CFN_GUARD = 'cdk-validator-cfnguard';

/** Control Tower controls the guard acknowledges somewhere, by control id, with their cfn-guard rule names. */
export const CONTROL_TOWER_RULES = {
  'CT.SQS.PR.1': 'sqs_dlq_check',
  'CT.LAMBDA.PR.2': 'lambda_function_public_access_prohibited_check',
  'CT.LAMBDA.PR.3': 'lambda_inside_vpc_check',
  'CT.APIGATEWAY.PR.2': 'api_gw_xray_enabled_check',
} as const;
export type AcknowledgedControl = keyof typeof CONTROL_TOWER_RULES;

/**
 * The AWS Control Tower proactive controls (cfn-guard rules bundled with the plugin, run offline), with
 * every finding marked as an error. The plugin leaves `severity` unset, and once any finding of a report
 * is acknowledged CDK recomputes the report's success from severities alone: an unacknowledged finding
 * would then pass synthesis silently.
 */
export function controlTowerChecks(): IPolicyValidationPluginBeta1 {
  const guard = new CfnGuardValidator();
  return {
    name: guard.name,
    version: guard.version,
    ruleIds: guard.ruleIds,
    validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
      const report = guard.validate(context);
      return {
        ...report,
        violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })),
      };
    },
  };
}

/** Acknowledges one Control Tower control on one construct (and what it contains), with the reason. */
export function acknowledgeControl(scope: IConstruct, control: AcknowledgedControl, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${CFN_GUARD}::${CONTROL_TOWER_RULES[control]}`, reason });
}

/**
 * Confused-deputy guard on every Lambda permission of a stack, including those CDK writes for API
 * Gateway and EventBridge: the caller's account (`SourceAccount`) next to its ARN (`SourceArn`), added at
 * synthesis so a permission added later is covered too.
 */
class PermissionSourceAccount implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof lambda.CfnPermission) || node.sourceAccount !== undefined) return;
    const account = Stack.of(node).account;
    node.sourceAccount = account;
    // A SourceArn that names a resource of the template (an EventBridge rule) passes the rule as it is.
    const sourceArn = Stack.of(node).resolve(node.sourceArn) as Record<string, unknown> | undefined;
    const localReference = sourceArn !== undefined && ('Fn::GetAtt' in sourceArn || 'Ref' in sourceArn);
    if (Token.isUnresolved(account) && !localReference) {
      acknowledgeControl(
        node,
        'CT.LAMBDA.PR.2',
        'SourceAccount is set to the deploying account and SourceArn to the calling API or rule; in an environment-agnostic stack the account is the AWS::AccountId pseudo parameter, which the static rule cannot read (the Control Tower hook sees the resolved value at deployment).',
      );
    }
  }
}

/**
 * Confused-deputy guard on every queue-policy statement that admits an AWS service (CDK writes one per
 * EventBridge rule that uses a queue as its dead-letter queue, pinned to the rule by `aws:SourceArn`):
 * `aws:SourceAccount` pins the calling account too.
 */
class QueuePolicySourceAccount implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof sqs.CfnQueuePolicy)) return;
    const stack = Stack.of(node);
    const document = stack.resolve(node.policyDocument) as { Statement?: PolicyStatementJson[] };
    (document.Statement ?? []).forEach((statement, i) => {
      const admitsService = statement.Effect === 'Allow' && statement.Principal?.Service !== undefined;
      if (admitsService && statement.Condition?.StringEquals?.['aws:SourceAccount'] === undefined) {
        node.addPropertyOverride(
          `PolicyDocument.Statement.${i}.Condition.StringEquals.aws:SourceAccount`,
          stack.account,
        );
      }
    });
  }
}

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Principal?: { readonly Service?: unknown };
  readonly Condition?: { readonly StringEquals?: Record<string, unknown> };
}

/** Registers the stack-wide guards of this module on a stack. */
export function addConfusedDeputyGuards(stack: Stack): void {
  Aspects.of(stack).add(new PermissionSourceAccount());
  Aspects.of(stack).add(new QueuePolicySourceAccount());
}

/**
 * The key-policy statement CT.KMS.PR.3 asks for: nobody creates a grant on the key unless the grant is
 * for an AWS resource or the caller is an AWS service, so the key cannot be lent to a principal outside
 * its policy.
 */
export function grantsOnlyForAwsServices(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: {
      BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
    },
  });
}
