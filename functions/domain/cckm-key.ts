/**
 * The CCKM AWS key record as CipherTrust Manager returns it (reference/cckm-api.md section 4),
 * reduced to the fields the guard reads. Records carry more fields; they are kept, not validated.
 */

export interface AwsTag {
  readonly TagKey: string;
  readonly TagValue: string;
}

export interface AwsParam {
  readonly KeyID: string;
  readonly Arn: string;
  readonly AWSAccountId?: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, `PendingReplicaDeletion`, ... */
  readonly KeyState: string;
  readonly Enabled?: boolean;
  readonly Alias?: readonly string[];
  readonly MultiRegion?: boolean;
  readonly MultiRegionConfiguration?: {
    readonly MultiRegionKeyType?: 'PRIMARY' | 'REPLICA';
    readonly PrimaryKey?: { readonly Arn?: string; readonly Region?: string };
    readonly ReplicaKeys?: readonly { readonly Arn?: string; readonly Region?: string }[];
  };
  readonly Tags?: readonly AwsTag[];
  readonly DeletionDate?: string;
}

export interface CckmKey {
  /** CCKM id (UUID): the only id used in `/api/v1/cckm/aws/keys/{id}/...`. */
  readonly id: string;
  readonly region: string;
  readonly kms?: string;
  readonly kms_id?: string;
  readonly cloud_name?: string;
  readonly gone?: boolean;
  /** Top-level deletion date; the docs also name it `DeletionDate`, so both are read. */
  readonly deletion_date?: string;
  readonly DeletionDate?: string;
  readonly updatedAt?: string;
  readonly synced_at?: string;
  readonly aws_param: AwsParam;
}

/** Key states in which a deletion is scheduled and can be cancelled. */
export const PENDING_STATES: ReadonlySet<string> = new Set(['PendingDeletion', 'PendingReplicaDeletion']);

/** True when the key is scheduled for deletion (including a multi-Region primary waiting on replicas). */
export function isPendingDeletion(key: CckmKey): boolean {
  return PENDING_STATES.has(key.aws_param.KeyState);
}

/** The deletion date CCKM recorded, whichever field name carries it, or undefined. */
export function deletionDateOf(key: CckmKey): string | undefined {
  const value = key.deletion_date || key.DeletionDate || key.aws_param.DeletionDate;
  return value ? value : undefined;
}
