import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackProps } from 'aws-cdk-lib';
import { App, BootstraplessSynthesizer, CfnStackSet, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { addConfusedDeputyGuards } from './compliance.ts';
import type { HubLocation, StackSetCallAs } from './hub-context.ts';
import { SpokeStack } from './spoke-stack.ts';

export const ORG_SPOKES_STACK_NAME = 'CckmDeletionGuardOrgSpokes';

/** Name of the StackSet (unique per Region of the administrator account). */
export const SPOKE_STACK_SET_NAME = 'CckmDeletionGuardSpokes';

/** CloudFormation's limit on an inline TemplateBody (CreateStackSet / UpdateStackSet). */
export const TEMPLATE_BODY_LIMIT_BYTES = 51_200;

export interface OrgSpokesStackProps extends StackProps {
  readonly hub: HubLocation;
  /** `ou-...` or `r-...` ids: every account under them, now and later, gets the spoke. */
  readonly orgUnits: readonly string[];
  readonly regions: readonly string[];
  readonly callAs: StackSetCallAs;
}

/**
 * The spoke template as JSON text, synthesized in an App of its own: environment-agnostic, without the
 * bootstrap-version rule or CDK metadata, so member accounts never bootstrapped for CDK can run it.
 */
export function spokeTemplateBody(hub: HubLocation): string {
  // An output directory of its own: under `cdk synth` an App writes to the CLI's CDK_OUTDIR by default,
  // which would leave a stray `Spoke.template.json` (and a second manifest) in cdk.out.
  const outdir = mkdtempSync(join(tmpdir(), 'cckm-spoke-'));
  try {
    // No construct-path metadata, even when the CLI asks for it: the body stays the same in every synth.
    const app = new App({
      analyticsReporting: false,
      outdir,
      postCliContext: { 'aws:cdk:enable-path-metadata': false },
    });
    const stack = new SpokeStack(app, 'Spoke', { hub });
    const template = app.synth().getStackArtifact(stack.artifactId).template as unknown;
    return JSON.stringify(template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Stack `CckmDeletionGuardOrgSpokes`: a service-managed StackSet that deploys the spoke template to every
 * account of the listed OUs and Regions, and to accounts that join them later (contract section 5).
 */
export class OrgSpokesStack extends Stack {
  readonly stackSet: CfnStackSet;
  /** Bytes of the inline spoke template, checked against TEMPLATE_BODY_LIMIT_BYTES at synth. */
  readonly templateBodyBytes: number;

  constructor(scope: Construct, id: string, props: OrgSpokesStackProps) {
    super(scope, id, {
      description:
        'CCKM Deletion Guard: organization StackSet of spokes forwarding KMS events to the hub bus',
      // No asset: the management (or delegated administrator) account need not be bootstrapped for CDK.
      synthesizer: new BootstraplessSynthesizer(),
      ...props,
    });
    addConfusedDeputyGuards(this);
    const body = spokeTemplateBody(props.hub);
    this.templateBodyBytes = Buffer.byteLength(body, 'utf8');
    if (this.templateBodyBytes > TEMPLATE_BODY_LIMIT_BYTES) {
      throw new Error(
        `The spoke template is ${this.templateBodyBytes} bytes, over CloudFormation's ${TEMPLATE_BODY_LIMIT_BYTES}-byte TemplateBody limit for a StackSet`,
      );
    }

    this.stackSet = new CfnStackSet(this, 'SpokeStackSet', {
      stackSetName: SPOKE_STACK_SET_NAME,
      description:
        'CCKM Deletion Guard spokes: forward KMS ScheduleKeyDeletion events and heartbeats to the hub bus',
      permissionModel: 'SERVICE_MANAGED',
      // New accounts in the OUs get the spoke; an account leaving them loses it (nothing of value stays).
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: props.callAs,
      // The spoke creates an IAM role (with a generated name).
      capabilities: ['CAPABILITY_IAM'],
      // Lets StackSets queue an update behind a running operation instead of failing it.
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        // SOFT: a few failing accounts do not throttle the rollout to the rest of the organization.
        concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...props.orgUnits] },
          regions: [...props.regions],
        },
      ],
      templateBody: body,
    });
  }
}
