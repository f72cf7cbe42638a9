import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FunctionName } from '../../infra/bundling.ts';
import { FUNCTION_ENTRIES } from '../../infra/bundling.ts';
import type { DeletionGuardStack } from '../../infra/deletion-guard-stack.ts';
import type { DeletionGuard } from '../../infra/guard-app.ts';
import { addDeletionGuard, addGuardStacks } from '../../infra/guard-app.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const REQUIRED_CONTEXT = {
  cckmUrl: 'https://cm.example.com',
  cckmSecretName: 'cckm/deletion-guard',
} as const;

/** Every optional feature on: VPC, tracing, private API restricted to an account, CloudTrail alarm, e-mail. */
export const OPTIONAL_CONTEXT = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0',
  tracing: 'true',
  allowedAccounts: '111122223333',
  vpcEndpointId: 'vpce-0123456789abcdef0',
  cloudTrailLogGroupName: 'aws-cloudtrail-logs',
  notifyEmail: 'ops@example.com',
} as const;

/** The full hub-and-spoke context (issue 11), with scope, sweepSync and a listed spoke account. */
export const HUB_CONTEXT = {
  hubAccount: '111122223333',
  hubRegion: 'us-east-1',
  organizationId: 'o-abc123defg',
  spokeOrgUnits: 'ou-ab12-cdefgh34',
  spokeRegions: 'us-east-1,eu-west-1',
  spokeAccounts: '777788889999',
  scopeAccounts: '111122223333,444455556666',
  scopeRegions: 'us-east-1,eu-west-1',
  sweepSync: 'true',
} as const;

/** Inline handler code standing in for both bundled functions. */
export const STUB_CODE = {
  'cancel-deletion': lambda.Code.fromInline('exports.handler = async () => ({});'),
  'remediate-deletion': lambda.Code.fromInline('exports.handler = async () => ({});'),
} as const;

/**
 * Wires every stack as infra/app.ts does (cdk-nag and the Control Tower checks registered) with stub
 * code, without synthesizing: a test adds a probe resource, then expects `app.synth()` to refuse it.
 */
export function wireApp(context: Record<string, unknown> = {}): { app: App; guard: DeletionGuard } {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], ...REQUIRED_CONTEXT, ...context },
  });
  const guard = addGuardStacks(app, { projectRoot: PROJECT_ROOT, code: STUB_CODE, cli: {} });
  return { app, guard };
}

/** Entry files that do not exist yet are replaced by inline stub code, so the stack still synthesizes. */
export function missingEntries(): FunctionName[] {
  return (Object.keys(FUNCTION_ENTRIES) as FunctionName[]).filter(
    (name) => !existsSync(`${PROJECT_ROOT}/${FUNCTION_ENTRIES[name]}`),
  );
}

export interface Synthesized {
  readonly app: App;
  readonly stack: DeletionGuardStack;
  readonly template: Template;
}

/**
 * Synthesizes the stack as infra/app.ts does, with cdk-nag registered (synthesis throws on an
 * unacknowledged finding). Bundling is skipped for speed (the `aws:cdk:bundling-stacks` context the CLI
 * itself uses to skip stacks) unless `bundle` is set.
 */
export function synth(
  context: Record<string, unknown> = {},
  options: { bundle?: boolean; cfnValidation?: boolean } = {},
): Synthesized {
  const app = new App({
    // CDK's built-in CloudFormation validation costs ~10 s per worker; one test turns it on.
    builtinCloudFormationValidation: options.cfnValidation ?? false,
    context: {
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...REQUIRED_CONTEXT,
      ...context,
    },
  });
  const code = Object.fromEntries(
    missingEntries().map((name) => [name, lambda.Code.fromInline('exports.handler = async () => ({});')]),
  );
  // No CLI defaults: a test never depends on the machine's CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
  const stack = addDeletionGuard(app, { projectRoot: PROJECT_ROOT, code, cli: {} });
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

/** The cdk-nag AwsSolutions findings left after acknowledgements, as `RuleId at path` lines. */
export function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} (${v.severity}) at ${r.constructPath}: ${v.description}`),
  );
}
