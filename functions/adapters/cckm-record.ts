import { z } from 'zod';
import { isCckmId } from '../domain/aws-key-ref.ts';
import { parseDeletionDate } from '../domain/deletion-date.ts';
import type { ManagedKey } from '../domain/managed-key.ts';

/**
 * The CCKM AWS key record as CipherTrust Manager returns it (reference/cckm-api.md section 4), and
 * its one mapping into the domain's ManagedKey. Records carry more fields; they are kept, not validated.
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

export interface CckmRecord {
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

// Only the fields the guard relies on are checked; the rest of the record is kept as it came.
// Optional fields of the wrong type are dropped rather than failing the record.
const recordSchema = z.looseObject({
  id: z.string().refine(isCckmId),
  region: z.string().min(1),
  aws_param: z.looseObject({
    KeyID: z.string().min(1),
    Arn: z.string().min(1),
    KeyState: z.string().min(1),
    AWSAccountId: z.string().optional().catch(undefined),
    Enabled: z.boolean().optional().catch(undefined),
    Alias: z.array(z.string()).optional().catch(undefined),
    Tags: z
      .array(z.looseObject({ TagKey: z.string(), TagValue: z.string() }))
      .optional()
      .catch(undefined),
  }),
});

/** The record when it has the fields the guard relies on, else undefined. */
export function parseCckmRecord(value: unknown): CckmRecord | undefined {
  const parsed = recordSchema.safeParse(value);
  return parsed.success ? (parsed.data as unknown as CckmRecord) : undefined;
}

/** Maps a validated CCKM record into the domain's ManagedKey: the only reader of CM's field names. */
export function toManagedKey(record: CckmRecord): ManagedKey {
  const p = record.aws_param;
  const rawDate = record.deletion_date || record.DeletionDate || p.DeletionDate;
  const deletionDate =
    parseDeletionDate(rawDate) ?? (typeof rawDate === 'string' && rawDate ? rawDate : undefined);
  const account = p.AWSAccountId || p.Arn.split(':')[4] || undefined;
  const multiRegionType = p.MultiRegionConfiguration?.MultiRegionKeyType;
  return {
    cckmId: record.id,
    arn: p.Arn,
    keyId: p.KeyID,
    ...(account === undefined ? {} : { account }),
    region: record.region,
    aliases: p.Alias ?? [],
    tags: (p.Tags ?? []).map((t) => ({ key: t.TagKey, value: t.TagValue })),
    state: p.KeyState,
    ...(deletionDate === undefined ? {} : { deletionDate }),
    gone: record.gone === true,
    ...(multiRegionType === 'PRIMARY' || multiRegionType === 'REPLICA' ? { multiRegionType } : {}),
  };
}

/** Parses and maps in one step: the ManagedKey of a CM answer, or undefined when it is no key record. */
export function managedKeyOf(value: unknown): ManagedKey | undefined {
  const record = parseCckmRecord(value);
  return record ? toManagedKey(record) : undefined;
}
