import type { PolicySettings, Reenable } from '../shared/settings.ts';
import type { Actor } from './event-identity.ts';
import { carriesExemptTag, isEnabled, isPendingDeletion, type ManagedKey } from './managed-key.ts';
import { globMatches } from './principal-glob.ts';

/**
 * The per-key decision of contract section 4, as data: what to do with one key CCKM manages, given
 * the policy, the key's CCKM record and, for a CloudTrail event, who scheduled the deletion.
 */

/** Where the key came from: a CloudTrail event (AWS says it is pending) or a sweep (CCKM says so). */
export type KeySource = 'event' | 'sweep';

/** A key left as it is, and why. */
export interface SkipDecision {
  readonly action: 'skip';
  readonly outcome: 'not-pending' | 'exempt' | 'allowed' | 'detected';
  readonly reason: string;
}

export type Decision =
  | SkipDecision
  | { readonly action: 'cancel'; readonly enable: boolean; readonly reason: string };

/**
 * Returns the first allow-list entry matching the caller's ARN or its session issuer's ARN; matching
 * is linear in the ARN's length (principal-glob.ts), never a backtracking regular expression.
 */
export function matchAllowedPrincipal(
  actor: Actor | undefined,
  allowed: readonly string[],
): { readonly pattern: string; readonly arn: string } | undefined {
  if (!actor) return undefined;
  const arns = [actor.arn, actor.issuerArn].filter((a): a is string => a !== undefined);
  for (const pattern of allowed) {
    const arn = arns.find((a) => globMatches(pattern, a));
    if (arn !== undefined) return { pattern, arn };
  }
  return undefined;
}

/**
 * Whether to enable after the cancel. `if-previously-enabled` trusts only CCKM's record read before
 * the cancel: it shows `Enabled` when CCKM had not yet synchronised the schedule made in AWS.
 */
export function shouldEnable(reenable: Reenable, before: ManagedKey): boolean {
  if (reenable === 'always') return true;
  if (reenable === 'never') return false;
  return isEnabled(before);
}

/** Decides what to do with one key; pure, so every policy combination is a table test. */
export function decideKey(input: {
  readonly policy: PolicySettings;
  readonly key: ManagedKey;
  readonly source: KeySource;
  readonly actor?: Actor;
}): Decision {
  const { policy, key, source, actor } = input;
  if (key.gone) return skip('not-pending', 'the key no longer exists in AWS (CCKM marks it gone)');
  // A CloudTrail event is fresher than CCKM's copy, which may not show the schedule yet: only a
  // sweep, whose sole source is CCKM, may conclude from the record that nothing is pending.
  if (source === 'sweep' && !isPendingDeletion(key)) {
    return skip(
      'not-pending',
      `CCKM shows the key ${key.state || 'in no state'}, no longer pending deletion`,
    );
  }
  if (carriesExemptTag(key, policy.exemptTag)) {
    return skip('exempt', `the key carries the exempt tag ${policy.exemptTag.key}=${policy.exemptTag.value}`);
  }
  const allowed = matchAllowedPrincipal(actor, policy.allowedPrincipals);
  if (allowed) return skip('allowed', `${allowed.arn} matches allowed principal ${allowed.pattern}`);
  const enable = shouldEnable(policy.reenable, key);
  if (policy.mode === 'detect') {
    const then = enable ? 'and enable the key' : '(the key would stay disabled)';
    return skip('detected', `detect mode: would cancel the deletion ${then}`);
  }
  return {
    action: 'cancel',
    enable,
    reason: `cancel ${enable ? 'and enable' : 'only'} (REENABLE=${policy.reenable})`,
  };
}

function skip(outcome: SkipDecision['outcome'], reason: string): SkipDecision {
  return { action: 'skip', outcome, reason };
}
