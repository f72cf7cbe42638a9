import { describe, expect, it } from 'vitest';
import { cancelKey } from '../../../functions/domain/cancel-key.ts';
import { NotFoundError, UpstreamError } from '../../../functions/shared/errors.ts';
import { FakeCm, key } from '../../helpers/fake-cckm.ts';

const ID = '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;
const deadline = 1_700_000_000_000;

describe('cancelKey', () => {
  it('cancels a key pending deletion and reports it Disabled', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    const result = await cancelKey(cckm, { by: 'cckm-id', id: ID, enable: false }, { deadline });
    expect(result).toEqual({ id: ID, arn: ARN, outcome: 'cancelled', keyState: 'Disabled', enabled: false });
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion']);
    expect(cckm.calls[1]).toEqual({ method: 'cancelDeletion', id: ID, deadline });
  });

  it('enables the key after the cancel when asked', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    const result = await cancelKey(cckm, { by: 'cckm-id', id: ID, enable: true });
    expect(result).toMatchObject({ outcome: 'cancelled', keyState: 'Enabled', enabled: true });
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion', 'enableKey']);
  });

  it('reports not-pending and changes nothing when the key is not pending deletion', async () => {
    const cckm = new FakeCm([key({ id: ID, state: 'Enabled' })]);
    const result = await cancelKey(cckm, { by: 'cckm-id', id: ID, enable: true });
    expect(result).toEqual({ id: ID, arn: ARN, outcome: 'not-pending', keyState: 'Enabled', enabled: true });
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion']);
  });

  it('is harmless when repeated', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    await cancelKey(cckm, { by: 'cckm-id', id: ID, enable: false });
    const again = await cancelKey(cckm, { by: 'cckm-id', id: ID, enable: false });
    expect(again).toMatchObject({ outcome: 'not-pending', keyState: 'Disabled' });
  });

  it('resolves an AWS key to its CCKM id first', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    const ref = { arn: ARN, keyId: KEY_ID, region: 'us-west-2', account: '111122223333' };
    const result = await cancelKey(cckm, { by: 'aws-key', ref, enable: false });
    expect(result.outcome).toBe('cancelled');
    expect(cckm.methods()).toEqual(['findAwsKey', 'cancelDeletion']);
  });

  it('throws NotFoundError naming the AWS key CCKM does not manage, before any state change', async () => {
    const cckm = new FakeCm([]);
    const ref = { keyId: KEY_ID, region: 'eu-central-1' };
    await expect(cancelKey(cckm, { by: 'aws-key', ref, enable: false })).rejects.toThrow(
      new NotFoundError(`CCKM does not manage the AWS key ${KEY_ID} in eu-central-1`),
    );
    expect(cckm.methods()).toEqual(['findAwsKey']);
  });

  it('propagates an upstream failure of the cancel without enabling', async () => {
    const cckm = new FakeCm([key({ id: ID })]);
    cckm.failures.set('cancelDeletion', {
      error: new UpstreamError('CipherTrust Manager answered 503 after 4 attempts'),
    });
    await expect(cancelKey(cckm, { by: 'cckm-id', id: ID, enable: true })).rejects.toBeInstanceOf(
      UpstreamError,
    );
    expect(cckm.methods()).toEqual(['getKey', 'cancelDeletion']);
  });
});
