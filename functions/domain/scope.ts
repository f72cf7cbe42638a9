import { ForbiddenError } from '../shared/errors.ts';
import type { Scope } from '../shared/settings.ts';

/**
 * The deployment's scope (contract sections 3 and 4): the accounts and Regions it protects. A key
 * outside it is never acted on: the API answers 403, the remediation reports `out-of-scope`, a sweep
 * neither lists nor decides it. Pure: the handlers pass the parsed SCOPE_ACCOUNTS / SCOPE_REGIONS.
 */

export type { Scope };

export interface DeploymentScope {
  readonly accounts: Scope;
  readonly regions: Scope;
}

/** Every account and Region: the default, and what a deployment without scope settings protects. */
export const EVERYWHERE: DeploymentScope = Object.freeze({ accounts: '*', regions: '*' });

function covers(scope: Scope, value: string | undefined): boolean {
  // An unknown account or Region is in a list scope only if it cannot be outside it: never.
  return scope === '*' || (value !== undefined && scope.includes(value));
}

/**
 * Why a key in `account` / `region` is outside the scope, or undefined when it is inside. An
 * unknown account (or Region) is outside a listed scope: the guard cannot prove it may act.
 */
export function outOfScopeReason(
  scope: DeploymentScope,
  account: string | undefined,
  region: string | undefined,
): string | undefined {
  return (
    uncovered(scope.regions, region, 'Region', 'SCOPE_REGIONS') ??
    uncovered(scope.accounts, account, 'account', 'SCOPE_ACCOUNTS')
  );
}

/** Why `value` (a Region or an account, named `noun`) is outside `scope`, set by `setting`; else undefined. */
function uncovered(
  scope: Scope,
  value: string | undefined,
  noun: string,
  setting: string,
): string | undefined {
  if (covers(scope, value)) return undefined;
  return value === undefined
    ? `the key names no ${noun}, and ${setting} lists the ${noun}s this deployment protects`
    : `${noun} ${value} is outside this deployment's scope (${setting})`;
}

/** True when the deployment protects keys in `account` and `region`. */
export function inScope(
  scope: DeploymentScope,
  account: string | undefined,
  region: string | undefined,
): boolean {
  return outOfScopeReason(scope, account, region) === undefined;
}

/**
 * True when a key in `region` and an account not known yet could still be in scope: the Region is
 * covered (an account is checked once known). Lets a caller refuse before its first call.
 */
export function regionInScope(scope: DeploymentScope, region: string | undefined): boolean {
  return covers(scope.regions, region);
}

/** Throws ForbiddenError (API 403) when the key is outside the scope. */
export function assertInScope(
  scope: DeploymentScope,
  account: string | undefined,
  region: string | undefined,
  what: string,
): void {
  const reason = outOfScopeReason(scope, account, region);
  if (reason !== undefined) throw new ForbiddenError(`${what}: ${reason}`);
}

/** The Regions a listing should ask for: the list, or undefined for every Region. */
export function scopedRegions(scope: DeploymentScope): readonly string[] | undefined {
  return scope.regions === '*' ? undefined : scope.regions;
}
