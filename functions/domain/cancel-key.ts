import { NotFoundError } from '../shared/errors.ts';
import type { CancelCommand } from './cancel-request.ts';
import { isEnabled, type ManagedKey } from './managed-key.ts';
import type { CallOptions, CckmApi } from './ports.ts';

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
 */
export async function cancelKey(
  cckm: CckmApi,
  command: CancelCommand,
  options: CallOptions = {},
): Promise<CancelResponse> {
  const before = await lookUp(cckm, command, options);
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

async function lookUp(cckm: CckmApi, command: CancelCommand, options: CallOptions): Promise<ManagedKey> {
  if (command.by === 'cckm-id') return cckm.getKey(command.id, options);
  const found = await cckm.findAwsKey(command.ref, options);
  if (!found) {
    const name = command.ref.arn ?? `${command.ref.keyId} in ${command.ref.region}`;
    throw new NotFoundError(`CCKM does not manage the AWS key ${name}`);
  }
  return found;
}
