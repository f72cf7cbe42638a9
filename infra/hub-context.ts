/**
 * Hub-and-spoke settings from CDK context (contract sections 4 and 5). Pure like ./context.ts: no CDK
 * imports and no process.env, so every rule is unit-tested without synthesizing, and each message names
 * the context key to fix.
 */
import {
  ACCOUNT_ID_PATTERN,
  checkScope,
  REGION_NAME_PATTERN,
  type Scope,
} from '../functions/shared/settings.ts';
import { ContextError } from './context-error.ts';

/** The context keys this module reads, for the app's typo detection (CONTEXT_KEYS). */
export const HUB_CONTEXT_KEYS = [
  'organizationId',
  'spokeAccounts',
  'scopeAccounts',
  'scopeRegions',
  'sweepSync',
  'hubAccount',
  'hubRegion',
  'spokeRegions',
  'spokeOrgUnits',
  'stackSetCallAs',
] as const;

export type StackSetCallAs = 'SELF' | 'DELEGATED_ADMIN';

/** `*` (everything) or an explicit list. */
export type { Scope };

/** Where the hub bus lives: the spokes' target is `arn:<partition>:events:<region>:<account>:event-bus/...`. */
export interface HubLocation {
  readonly account: string;
  readonly region: string;
}

export interface HubSettings {
  /** `o-...`: every account of this organization may put events on the hub bus. */
  readonly organizationId: string | undefined;
  /** Accounts allowed to put events on the hub bus (with or without an organization). */
  readonly spokeAccounts: readonly string[];
  readonly scopeAccounts: Scope;
  readonly scopeRegions: Scope;
  readonly sweepSync: boolean;
  /** The hub's account and Region, when known (context, else the CLI's defaults). */
  readonly hub: HubLocation | undefined;
  /** Regions that get spokes (in the hub's account, and in the OUs' accounts); never holds `*`. */
  readonly spokeRegions: readonly string[];
  /** `ou-...` or `r-...` ids the StackSet deploys to; empty: no organization spokes. */
  readonly spokeOrgUnits: readonly string[];
  readonly stackSetCallAs: StackSetCallAs;
}

/** The CLI's account and Region (`CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`), read by the caller. */
export interface CliDefaults {
  readonly account?: string | undefined;
  readonly region?: string | undefined;
}

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT = ACCOUNT_ID_PATTERN;
// us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4, ...
const REGION = REGION_NAME_PATTERN;
// Organizations' own id patterns: ou-<root suffix>-<ou suffix>, or a root r-<suffix>.
const ORG_UNIT = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/;

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => String(v)).join(',');
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** Comma-separated (or a cdk.json array), trimmed, empty entries and repeats dropped, order kept. */
function list(value: unknown): string[] {
  const entries = (text(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return [...new Set(entries)];
}

function checkList(
  key: string,
  entries: readonly string[],
  pattern: RegExp,
  what: string,
  problems: string[],
) {
  const bad = entries.find((e) => !pattern.test(e));
  if (bad !== undefined) problems.push(`${key} has an entry that is not ${what}: "${bad.slice(0, 200)}"`);
}

function parseScope(key: string, value: unknown, kind: 'accounts' | 'regions', problems: string[]): Scope {
  // The functions' SCOPE_ACCOUNTS / SCOPE_REGIONS rule, so a context value the synth accepts is one
  // the function accepts too.
  const checked = checkScope(text(value), key, kind);
  if (checked.ok) return checked.value;
  problems.push(checked.problem);
  return '*';
}

function parseBool(key: string, value: unknown, problems: string[]): boolean {
  const s = text(value)?.toLowerCase();
  if (s === undefined || s === 'false') return false;
  if (s === 'true') return true;
  problems.push(`${key} must be true or false`);
  return false;
}

/** The hub's account or Region: the context key wins; a CLI default counts only when well-formed. */
function hubPart(
  key: 'hubAccount' | 'hubRegion',
  value: unknown,
  fallback: string | undefined,
  pattern: RegExp,
  example: string,
  problems: string[],
): string | undefined {
  const s = text(value);
  if (s === undefined) return fallback !== undefined && pattern.test(fallback) ? fallback : undefined;
  if (!pattern.test(s)) {
    problems.push(`${key} must look like ${example} (got "${s.slice(0, 100)}")`);
    return undefined;
  }
  return s;
}

/**
 * Validates the hub-and-spoke context keys into settings; throws ContextError listing every problem.
 * `cli` carries CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION, the defaults of hubAccount / hubRegion.
 */
export function parseHubContext(
  context: Readonly<Record<string, unknown>>,
  cli: CliDefaults = {},
): HubSettings {
  const problems: string[] = [];

  const organizationId = text(context.organizationId);
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    problems.push(
      `organizationId must be an AWS Organizations id, o- and 10 to 32 lowercase letters or digits (got "${organizationId.slice(0, 100)}")`,
    );
  }

  const spokeAccounts = list(context.spokeAccounts);
  checkList('spokeAccounts', spokeAccounts, ACCOUNT, 'a 12-digit account id', problems);

  const scopeAccounts = parseScope('scopeAccounts', context.scopeAccounts, 'accounts', problems);
  const scopeRegions = parseScope('scopeRegions', context.scopeRegions, 'regions', problems);
  const sweepSync = parseBool('sweepSync', context.sweepSync, problems);

  const account = hubPart('hubAccount', context.hubAccount, cli.account, ACCOUNT, '123456789012', problems);
  const region = hubPart('hubRegion', context.hubRegion, cli.region, REGION, 'us-east-1', problems);

  const spokeRegions = list(context.spokeRegions);
  checkList('spokeRegions', spokeRegions, REGION, 'a Region name (no *: list the Regions)', problems);
  const spokeOrgUnits = list(context.spokeOrgUnits);
  checkList(
    'spokeOrgUnits',
    spokeOrgUnits,
    ORG_UNIT,
    'an organizational unit id (ou-...) or root id (r-...)',
    problems,
  );

  const callAs = text(context.stackSetCallAs) ?? 'SELF';
  if (callAs !== 'SELF' && callAs !== 'DELEGATED_ADMIN')
    problems.push('stackSetCallAs must be SELF or DELEGATED_ADMIN');

  if (spokeOrgUnits.length > 0 && spokeRegions.length === 0) {
    problems.push('spokeOrgUnits needs spokeRegions too: -c spokeRegions=us-east-1,eu-west-1');
  }
  if (spokeOrgUnits.length > 0 && organizationId === undefined && spokeAccounts.length === 0) {
    problems.push(
      'spokeOrgUnits needs organizationId (or spokeAccounts) so the hub bus admits the member accounts: -c organizationId=o-...',
    );
  }
  const spokesAsked = spokeRegions.length > 0 || spokeOrgUnits.length > 0;
  const hubPartsValid = !problems.some((p) => p.startsWith('hubAccount ') || p.startsWith('hubRegion '));
  if (spokesAsked && hubPartsValid && (account === undefined || region === undefined)) {
    problems.push(
      'spokes need the hub bus ARN at synth time: pass -c hubAccount=123456789012 -c hubRegion=us-east-1 (or run cdk with credentials and a Region, which set CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION)',
    );
  }

  if (problems.length > 0) throw new ContextError(problems);

  return Object.freeze({
    organizationId,
    spokeAccounts: Object.freeze(spokeAccounts),
    scopeAccounts,
    scopeRegions,
    sweepSync,
    hub: account !== undefined && region !== undefined ? Object.freeze({ account, region }) : undefined,
    spokeRegions: Object.freeze(spokeRegions),
    spokeOrgUnits: Object.freeze(spokeOrgUnits),
    stackSetCallAs: callAs as StackSetCallAs,
  });
}

/** The remediation (and API) function environment these settings imply (contract section 4). */
export function hubFunctionEnvironment(
  s: HubSettings,
): Record<'SCOPE_ACCOUNTS' | 'SCOPE_REGIONS' | 'SWEEP_SYNC', string> {
  const scope = (v: Scope) => (v === '*' ? '*' : v.join(','));
  return {
    SCOPE_ACCOUNTS: scope(s.scopeAccounts),
    SCOPE_REGIONS: scope(s.scopeRegions),
    SWEEP_SYNC: String(s.sweepSync),
  };
}
