import type { App, Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { controlTowerChecks } from './compliance.ts';
import { parseGuardContext } from './context.ts';
import { ContextError } from './context-error.ts';
import type { DeletionGuardStackProps } from './deletion-guard-stack.ts';
import { DeletionGuardStack, STACK_NAME } from './deletion-guard-stack.ts';
import type { CliDefaults, HubSettings } from './hub-context.ts';
import { parseHubContext } from './hub-context.ts';
import type { AddedSpokes } from './spokes.ts';
import { addSpokes, spokeStacks } from './spokes.ts';

export interface AddDeletionGuardOptions extends Pick<DeletionGuardStackProps, 'projectRoot' | 'code'> {
  /** The CLI's account and Region, defaults of hubAccount / hubRegion; default: CDK_DEFAULT_ACCOUNT / _REGION. */
  readonly cli?: CliDefaults;
}

/** The guard's stacks in an app: the hub, and the spokes the context asks for. */
export interface DeletionGuard {
  readonly stack: DeletionGuardStack;
  readonly hub: HubSettings;
  readonly spokes: AddedSpokes;
  /** Every stack added: the hub first, then the regional spokes, then the organization stack. */
  readonly stacks: readonly Stack[];
}

/**
 * Parses both context modules and reports every problem of both in one ContextError, so a user fixes
 * all their -c flags in one go.
 */
function parseContext(context: Record<string, unknown>, cli: CliDefaults) {
  const problems: string[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const settings = attempt(() => parseGuardContext(context));
  const hub = attempt(() => parseHubContext(context, cli));
  if (settings === undefined || hub === undefined) throw new ContextError(problems);
  return { settings, hub };
}

/**
 * Adds the guard to an app from the app's context: the hub stack `CckmDeletionGuard` and the spoke
 * stacks (`CckmDeletionGuardSpoke-<region>`, `CckmDeletionGuardOrgSpokes`) when spokeRegions /
 * spokeOrgUnits ask for them. Registers cdk-nag AwsSolutions and the AWS Control Tower proactive
 * controls on the app, so both run on every stack of it, and the confused-deputy guards on each stack.
 * Shared by infra/app.ts and the infra tests, so the tests check the wiring that `cdk synth` runs.
 */
export function addGuardStacks(app: App, options: AddDeletionGuardOptions = {}): DeletionGuard {
  const cli = options.cli ?? {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };
  const { settings, hub } = parseContext(app.node.getAllContext(), cli);
  // Environment-agnostic on purpose: synth needs no account, Region or credentials.
  const stack = new DeletionGuardStack(app, STACK_NAME, {
    settings,
    hub,
    projectRoot: options.projectRoot,
    code: options.code,
  });
  // The regional spokes depend on the hub stack: EventBridge checks the hub bus policy when a spoke's
  // rule is created (`cdk deploy --all` deploys the hub first).
  // The spoke stacks add the confused-deputy guards themselves (the StackSet's template copy included).
  const spokes = addSpokes(app, hub, { hubStack: stack });
  // App-wide: the plugins validate every stack's template, the spokes' included.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), controlTowerChecks());
  return { stack, hub, spokes, stacks: [stack, ...spokeStacks(spokes)] };
}

/** The hub stack only, as callers before the spokes used it; the spokes are added all the same. */
export function addDeletionGuard(app: App, options: AddDeletionGuardOptions = {}): DeletionGuardStack {
  return addGuardStacks(app, options).stack;
}
