import { describe, expect, it } from 'vitest';
import { isEnabled, isPendingDeletion } from '../../../functions/domain/managed-key.ts';
import { key } from '../../helpers/fake-cckm.ts';

describe('the managed key rules', () => {
  it.each([
    { state: 'PendingDeletion', pending: true, enabled: false },
    { state: 'PendingReplicaDeletion', pending: true, enabled: false },
    { state: 'Enabled', pending: false, enabled: true },
    { state: 'Disabled', pending: false, enabled: false },
    { state: 'Unavailable', pending: false, enabled: false },
    { state: '', pending: false, enabled: false },
  ])('a key in state "$state" is pending: $pending, enabled: $enabled', ({ state, pending, enabled }) => {
    const managed = key({ state });
    expect(isPendingDeletion(managed)).toBe(pending);
    expect(isEnabled(managed)).toBe(enabled);
  });
});
