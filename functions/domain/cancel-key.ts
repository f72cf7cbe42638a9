import { NotFoundError } from '../shared/errors.ts';
import type { CancelCommand } from './cancel-request.ts';
import { isEnabled, type ManagedKey } from './managed-key.ts';
import type { CallOptions, CckmApi } from './ports.ts';
import { assertInScope, type DeploymentScope, EVERYWHERE, regionInScope } from './scope.ts';

/** The 200 body of the API route (contract section 3). */
export interface CancelResponse {
  readonly id: string;
  readonly arn: string;
  readonly outcome: 'cancelled' | 'not-pending';
  readonly keyState: string;
  readonly enabled: boolean;
}

/**
 * Cancels the scheduled deletion of one key through CipherTrust Manager, and enables it when asked.
 *
 * The cancel is attempted even when CCKM's copy does not show the key pending deletion: that copy
 * lags when the deletion was scheduled directly in AWS, and a cancel of a key that is not pending
 * is harmless (CipherTrust Manager refuses it, which the client reports as `not-pending`).
 *
 * A key outside `scope` is refused with ForbiddenError before any state-changing call: from the ARN
 * (or the Region) before any call at all, else from CCKM's record once read.
 */
export async function cancelKey(
  cckm: CckmApi,
  command: CancelCommand,
  options: CallOptions = {},
  scope: DeploymentScope = EVERYWHERE,
): Promise<CancelResponse> {
  const before = await lookUp(cckm, command, options, scope);
  const result = await cckm.cancelDeletion(before.cckmId, options);
  if (result.outcome === 'not-pending') return respond(before, 'not-pending', before, 'Disabled');
  if (command.enable) {
    const after = await cckm.enableKey(before.cckmId, options);
    return respond(before, 'cancelled', after, 'Enabled');
  }
  // A cancel leaves the key Disabled (reference: cancel-deletion); CM's record says so when it returns one.
  return respond(before, 'cancelled', result.key, 'Disabled');
}

/** The 200 body: the state from CM's latest record when it sent one, else the state the call leaves. */
function respond(
  before: ManagedKey,
  outcome: CancelResponse['outcome'],
  latest: ManagedKey | undefined,
  assumed: 'Enabled' | 'Disabled',
): CancelResponse {
  return {
    id: before.cckmId,
    arn: before.arn,
    outcome,
    keyState: latest?.state ?? assumed,
    enabled: latest ? isEnabled(latest) : assumed === 'Enabled',
  };
}

async function lookUp(
  cckm: CckmApi,
  command: CancelCommand,
  options: CallOptions,
  scope: DeploymentScope,
): Promise<ManagedKey> {
  if (command.by === 'cckm-id') {
    // The id says nothing about where the key lives: read it (no state change), then decide.
    const key = await cckm.getKey(command.id, options);
    assertInScope(scope, key.account, key.region, `key ${key.cckmId} (${key.arn})`);
    return key;
  }
  const { ref } = command;
  const name = ref.arn ?? `${ref.keyId} in ${ref.region}`;
  // Known before any call: the Region always, the account when the caller gave an ARN.
  if (ref.account !== undefined || !regionInScope(scope, ref.region)) {
    assertInScope(scope, ref.account, ref.region, `AWS key ${name}`);
  }
  const found = await cckm.findAwsKey(ref, options);
  if (!found) throw new NotFoundError(`CCKM does not manage the AWS key ${name}`);
  assertInScope(scope, found.account, found.region, `AWS key ${name}`);
  return found;
}
