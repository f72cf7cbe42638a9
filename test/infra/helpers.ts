import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FunctionName } from '../../infra/bundling.ts';
import { FUNCTION_ENTRIES } from '../../infra/bundling.ts';
import type { DeletionGuardStack } from '../../infra/deletion-guard-stack.ts';
import { addDeletionGuard } from '../../infra/guard-app.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const REQUIRED_CONTEXT = {
  cckmUrl: 'https://cm.example.com',
  cckmSecretName: 'cckm/deletion-guard',
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
