import type { App } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { controlTowerChecks } from './compliance.ts';
import { parseGuardContext } from './context.ts';
import type { DeletionGuardStackProps } from './deletion-guard-stack.ts';
import { DeletionGuardStack, STACK_NAME } from './deletion-guard-stack.ts';

/**
 * Adds the guard to an app from the app's context and registers cdk-nag AwsSolutions and the AWS Control Tower proactive controls on it (every stack of the app); shared by
 * infra/app.ts and the infra tests, so the tests check the wiring that `cdk synth` runs.
 */
export function addDeletionGuard(
  app: App,
  options: Pick<DeletionGuardStackProps, 'projectRoot' | 'code'> = {},
): DeletionGuardStack {
  const settings = parseGuardContext(app.node.getAllContext());
  // Environment-agnostic on purpose: synth needs no account, Region or credentials.
  const stack = new DeletionGuardStack(app, STACK_NAME, { settings, ...options });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), controlTowerChecks());
  return stack;
}
