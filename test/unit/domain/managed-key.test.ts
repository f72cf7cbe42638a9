import { describe, expect, it } from 'vitest';
import { isEnabled, isPendingDeletion } from '../../../functions/domain/managed-key.ts';
import { key } from '../../helpers/fake-cckm.ts';

describe('the managed key rules', () => {
  it.each([
    ['PendingDeletion', true],
    ['PendingReplicaDeletion', true],
    ['Enabled', false],
    ['Disabled', false],
    ['', false],
  ])('counts a key in state "%s" as pending deletion: %s', (state, expected) => {
    expect(isPendingDeletion(key({ state }))).toBe(expected);
  });

  it.each([
    ['Enabled', true],
    ['Disabled', false],
    ['PendingDeletion', false],
    ['Unavailable', false],
  ])('counts a key in state "%s" as enabled: %s', (state, expected) => {
    expect(isEnabled(key({ state }))).toBe(expected);
  });
});
