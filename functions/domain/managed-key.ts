import type { ExemptTag } from '../shared/settings.ts';

/**
 * A KMS key CCKM manages, as the guard reasons about it. The CipherTrust Manager adapter maps CM's
 * record into this shape once (`adapters/cckm-record.ts`); nothing in the domain reads CM's JSON.
 */

/** One AWS tag of a key. */
export interface KeyTag {
  readonly key: string;
  readonly value: string;
}

export interface ManagedKey {
  /** CCKM id (UUID): the only id used in `/api/v1/cckm/aws/keys/{id}/...`. */
  readonly cckmId: string;
  readonly arn: string;
  /** AWS KeyId (UUID or `mrk-…`). */
  readonly keyId: string;
  /** CCKM's account field, else the ARN's; undefined when neither names one. */
  readonly account?: string;
  readonly region: string;
  readonly aliases: readonly string[];
  readonly tags: readonly KeyTag[];
  /** KMS key state: `Enabled`, `Disabled`, `PendingDeletion`, `PendingReplicaDeletion`, ... */
  readonly state: string;
  /** ISO 8601 when CCKM's date could be read, else CCKM's text as it came. */
  readonly deletionDate?: string;
  /** CCKM marks a key gone when it no longer exists in AWS. */
  readonly gone: boolean;
  readonly multiRegionType?: 'PRIMARY' | 'REPLICA';
}

/** Key states in which a deletion is scheduled and can be cancelled. */
export const PENDING_STATES: ReadonlySet<string> = new Set(['PendingDeletion', 'PendingReplicaDeletion']);

/** Is it pending? True when the key is scheduled for deletion (a multi-Region primary waiting on replicas too). */
export function isPendingDeletion(key: Pick<ManagedKey, 'state'>): boolean {
  return PENDING_STATES.has(key.state);
}

/**
 * Is it enabled? The key state says `Enabled`. This is KMS's own definition (its `Enabled` flag is true
 * exactly when the state is `Enabled`), and the contract's REENABLE `if-previously-enabled` rule.
 */
export function isEnabled(key: Pick<ManagedKey, 'state'>): boolean {
  return key.state === 'Enabled';
}

/** Does it carry the exempt tag? Exact key, exact value. */
export function carriesExemptTag(key: Pick<ManagedKey, 'tags'>, tag: ExemptTag): boolean {
  return key.tags.some((t) => t.key === tag.key && t.value === tag.value);
}
