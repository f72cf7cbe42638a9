/**
 * Deployment and run-time settings rules shared by the CDK context parser (`infra/context.ts`) and the
 * functions' environment parser (`functions/shared/config.ts`). Pure: no environment reading, no
 * imports, so both sides load it without loading the other.
 */

/** `remediate` acts; `detect` makes no state-changing call. */
export const MODES = ['remediate', 'detect'] as const;
export type Mode = (typeof MODES)[number];

/** When a cancelled key is enabled again. */
export const REENABLES = ['never', 'always', 'if-previously-enabled'] as const;
export type Reenable = (typeof REENABLES)[number];

export const DEFAULT_MODE: Mode = 'remediate';
export const DEFAULT_REENABLE: Reenable = 'if-previously-enabled';

/** The tag (`key=value`) that exempts a key from protection. */
export interface ExemptTag {
  readonly key: string;
  readonly value: string;
}

/** The remediation policy as both sides see it once parsed. */
export interface PolicySettings {
  readonly mode: Mode;
  readonly reenable: Reenable;
  readonly allowedPrincipals: readonly string[];
  readonly exemptTag: ExemptTag;
}
