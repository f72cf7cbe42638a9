import type { App, Stack } from 'aws-cdk-lib';
import type { HubSettings } from './hub-context.ts';
import { ORG_SPOKES_STACK_NAME, OrgSpokesStack } from './org-spokes-stack.ts';
import { SPOKE_STACK_PREFIX, SpokeStack } from './spoke-stack.ts';

export interface AddedSpokes {
  /** One per spoke Region of the hub's account, the hub's own Region excluded. */
  readonly regional: readonly SpokeStack[];
  /** The organization StackSet stack, when spokeOrgUnits is given. */
  readonly organization: OrgSpokesStack | undefined;
}

export interface AddSpokesOptions {
  /**
   * The hub stack: the regional spokes are deployed after it (`cdk deploy --all`), since EventBridge checks
   * the hub bus policy when a spoke's rule is created. The organization stack gets no such dependency: it
   * is deployed with the management (or delegated administrator) account's credentials, which must not
   * deploy the hub too.
   */
  readonly hubStack?: Stack;
}

/**
 * Adds the spoke stacks the settings ask for: `CckmDeletionGuardSpoke-<region>` per spokeRegions entry in
 * the hub's account, and `CckmDeletionGuardOrgSpokes` (in the hub's Region, any account) with spokeOrgUnits.
 */
export function addSpokes(app: App, settings: HubSettings, options: AddSpokesOptions = {}): AddedSpokes {
  const { hub } = settings;
  if (hub === undefined) {
    // parseHubContext refuses spokes without a hub location; this only guards a hand-built settings object.
    if (settings.spokeRegions.length > 0 || settings.spokeOrgUnits.length > 0) {
      throw new Error('addSpokes needs the hub account and Region (context hubAccount and hubRegion)');
    }
    return { regional: [], organization: undefined };
  }
  const regional = settings.spokeRegions
    .filter((region) => region !== hub.region)
    .map(
      (region) =>
        new SpokeStack(app, `${SPOKE_STACK_PREFIX}-${region}`, {
          env: { account: hub.account, region },
          hub,
        }),
    );
  if (options.hubStack)
    for (const spoke of regional) {
      spoke.addStackDependency(
        options.hubStack,
        'EventBridge checks the hub bus policy when a spoke rule is created',
      );
    }
  const organization =
    settings.spokeOrgUnits.length > 0
      ? new OrgSpokesStack(app, ORG_SPOKES_STACK_NAME, {
          // Service-managed StackSets are created from the management account or a delegated administrator,
          // which need not be the hub's account: the stack takes the account of the credentials deploying it.
          env: { region: hub.region },
          hub,
          orgUnits: settings.spokeOrgUnits,
          regions: settings.spokeRegions,
          callAs: settings.stackSetCallAs,
        })
      : undefined;
  return { regional, organization };
}

/** Every stack addSpokes added, for callers that iterate (validations, tests). */
export function spokeStacks(added: AddedSpokes): Stack[] {
  return [...added.regional, ...(added.organization ? [added.organization] : [])];
}
