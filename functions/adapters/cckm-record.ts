import { isCckmId } from '../domain/aws-key-ref.ts';
import { parseDeletionDate } from '../domain/deletion-date.ts';
import type { ManagedKey } from '../domain/managed-key.ts';
import { isJsonObject } from '../shared/json.ts';

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

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTag = (v: unknown): boolean =>
  isJsonObject(v) && typeof v.TagKey === 'string' && typeof v.TagValue === 'string';

/**
 * The record when it has the fields the guard relies on, else undefined. Only those fields are checked;
 * the rest of the record is kept as it came, and an optional field of the wrong type is dropped rather
 * than failing the record. Checked by hand, not by a schema library: this runs for every record of every
 * listing and lookup (BENCHMARKS.md).
 */
export function parseCckmRecord(value: unknown): CckmRecord | undefined {
  if (!isJsonObject(value) || typeof value.id !== 'string' || !isCckmId(value.id)) return undefined;
  const p = value.aws_param;
  if (!nonEmptyString(value.region) || !isJsonObject(p)) return undefined;
  if (!nonEmptyString(p.KeyID) || !nonEmptyString(p.Arn) || !nonEmptyString(p.KeyState)) return undefined;
  const badAccount = p.AWSAccountId !== undefined && typeof p.AWSAccountId !== 'string';
  const badEnabled = p.Enabled !== undefined && typeof p.Enabled !== 'boolean';
  const badAlias =
    p.Alias !== undefined && !(Array.isArray(p.Alias) && p.Alias.every((a) => typeof a === 'string'));
  const badTags = p.Tags !== undefined && !(Array.isArray(p.Tags) && p.Tags.every(isTag));
  // A record whose fields all have their types (every record CM writes) is kept as it came; only one with
  // a field to drop is copied, so a lookup or a listing page does not copy every record twice.
  if (!(badAccount || badEnabled || badAlias || badTags)) return value as unknown as CckmRecord;
  const param: Record<string, unknown> = { ...p };
  if (badAccount) param.AWSAccountId = undefined;
  if (badEnabled) param.Enabled = undefined;
  if (badAlias) param.Alias = undefined;
  if (badTags) param.Tags = undefined;
  return { ...value, aws_param: param } as unknown as CckmRecord;
}

/** Maps a validated CCKM record into the domain's ManagedKey: the only reader of CM's field names. */
export function toManagedKey(record: CckmRecord): ManagedKey {
  const p = record.aws_param;
  const rawDate = record.deletion_date || record.DeletionDate || p.DeletionDate;
  const deletionDate =
    parseDeletionDate(rawDate) ?? (typeof rawDate === 'string' && rawDate ? rawDate : undefined);
  const account = p.AWSAccountId || p.Arn.split(':')[4] || undefined;
  const multiRegionType = p.MultiRegionConfiguration?.MultiRegionKeyType;
  // Absent fields are undefined properties: every reader asks `=== undefined`, and JSON drops them.
  return {
    cckmId: record.id,
    arn: p.Arn,
    keyId: p.KeyID,
    account,
    region: record.region,
    aliases: p.Alias ?? [],
    tags: (p.Tags ?? []).map((t) => ({ key: t.TagKey, value: t.TagValue })),
    state: p.KeyState,
    deletionDate,
    gone: record.gone === true,
    multiRegionType:
      multiRegionType === 'PRIMARY' || multiRegionType === 'REPLICA' ? multiRegionType : undefined,
  };
}

/** Parses and maps in one step: the ManagedKey of a CM answer, or undefined when it is no key record. */
export function managedKeyOf(value: unknown): ManagedKey | undefined {
  const record = parseCckmRecord(value);
  return record ? toManagedKey(record) : undefined;
}
