import { NotFoundError } from '../shared/errors.ts';
import type { CancelCommand } from './cancel-request.ts';
import type { CckmKey } from './cckm-key.ts';
import type { CallOptions, CckmApi } from './ports.ts';

/** The 200 body of the API route (contract section 3). */
export interface CancelResponse {
  readonly id: string;
  readonly arn: string;
  readonly outcome: 'cancelled' | 'not-pending';
  readonly keyState: string;
  readonly enabled: boolean;
}

function isEnabled(key: CckmKey): boolean {
  return key.aws_param.Enabled ?? key.aws_param.KeyState === 'Enabled';
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
  const result = await cckm.cancelDeletion(before.id, options);
  if (result.outcome === 'not-pending') return respond(before, 'not-pending', before, 'Disabled');
  if (command.enable) {
    const after = await cckm.enableKey(before.id, options);
    return respond(before, 'cancelled', after, 'Enabled');
  }
  // A cancel leaves the key Disabled (reference: cancel-deletion); CM's record says so when it returns one.
  return respond(before, 'cancelled', result.key, 'Disabled');
}

/** The 200 body: the state from CM's latest record when it sent one, else the state the call leaves. */
function respond(
  before: CckmKey,
  outcome: CancelResponse['outcome'],
  latest: CckmKey | undefined,
  assumed: 'Enabled' | 'Disabled',
): CancelResponse {
  return {
    id: before.id,
    arn: before.aws_param.Arn,
    outcome,
    keyState: latest?.aws_param.KeyState ?? assumed,
    enabled: latest ? isEnabled(latest) : assumed === 'Enabled',
  };
}

async function lookUp(cckm: CckmApi, command: CancelCommand, options: CallOptions): Promise<CckmKey> {
  if (command.by === 'cckm-id') return cckm.getKey(command.id, options);
  const found = await cckm.findAwsKey(command.ref, options);
  if (!found) {
    const name = command.ref.arn ?? `${command.ref.keyId} in ${command.ref.region}`;
    throw new NotFoundError(`CCKM does not manage the AWS key ${name}`);
  }
  return found;
}
