import { createHash } from 'node:crypto';

/**
 * The simulator's inventory. Two layers, as in real life: the AWS truth (one entry per KMS key and
 * Region, keyed by ARN) and CCKM's records (one per KMS container that knows the key), each holding
 * a cached copy of the AWS fields that lags until an action, a refresh or the auto-sync catches up.
 */

/** AWS KMS key states (AWS-defined set). */
export type KeyState =
  | 'Creating'
  | 'Enabled'
  | 'Disabled'
  | 'PendingDeletion'
  | 'PendingImport'
  | 'PendingReplicaDeletion'
  | 'Unavailable'
  | 'Updating';

export interface SimAwsTag {
  TagKey: string;
  TagValue: string;
}

/** What AWS KMS knows about one key in one Region (the `aws_param` fields CCKM copies). */
export interface AwsKeyTruth {
  KeyID: string;
  Arn: string;
  AWSAccountId: string;
  KeyState: KeyState;
  Enabled: boolean;
  Alias: string[];
  Tags: SimAwsTag[];
  Description: string;
  KeyManager: 'CUSTOMER';
  Origin: 'AWS_KMS';
  KeyUsage: 'ENCRYPT_DECRYPT';
  CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT';
  KeySpec: 'SYMMETRIC_DEFAULT';
  CreationDate: string;
  MultiRegion: boolean;
  MultiRegionConfiguration?: {
    MultiRegionKeyType: 'PRIMARY' | 'REPLICA';
    PrimaryKey: { Arn: string; Region: string };
    ReplicaKeys: { Arn: string; Region: string }[];
  };
  DeletionDate?: string;
  PendingDeletionWindowInDays?: number;
}

/** A CCKM AWS key record as the API returns it (reference/cckm-api.md section 4). */
export interface SimKeyRecord {
  id: string;
  uri: string;
  account: string;
  createdAt: string;
  updatedAt: string;
  synced_at: string;
  kms_id: string;
  kms: string;
  region: string;
  cloud_name: 'aws';
  gone: boolean;
  key_material_origin: 'native';
  key_source: 'native';
  deletion_date: string;
  aws_param: AwsKeyTruth;
}

/** What a listing filter sees of a record: shared with the store, never to be changed. */
export interface SimKeyPeek {
  readonly id: string;
  readonly kms: string;
  readonly kms_id: string;
  readonly region: string;
  readonly gone: boolean;
  readonly aws_param: Readonly<AwsKeyTruth>;
}

/** One key to seed: AWS truth plus, unless `managed` is false, a CCKM record. */
export interface SeedKey {
  /** Handle for tests and the banner, e.g. `payments`. Unique. */
  readonly name: string;
  /** CCKM id; derived from `name` (and `kms`) when absent. */
  readonly id?: string;
  readonly kms: string;
  readonly account: string;
  readonly region: string;
  /** AWS KeyId: a UUID, or `mrk-` + 32 hex digits. */
  readonly keyId: string;
  readonly state: KeyState;
  /** Defaults to `state === 'Enabled'`. */
  readonly enabled?: boolean;
  readonly aliases?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly description?: string;
  /** Multi-Region key: its role and the Regions of the primary and the replicas. */
  readonly multiRegion?: {
    readonly type: 'PRIMARY' | 'REPLICA';
    readonly primaryRegion: string;
    readonly replicaRegions: readonly string[];
  };
  /** Days until deletion when pending deletion (default 30). */
  readonly pendingWindowInDays?: number;
  /** Fields in which CCKM's cached copy differs from the truth (a deletion scheduled directly in AWS). */
  readonly staleCache?: Partial<Pick<AwsKeyTruth, 'KeyState' | 'Enabled' | 'DeletionDate'>>;
  /** False: the key exists only in AWS; CCKM has no record (a `not-managed` key). Default true. */
  readonly managed?: boolean;
}

interface RecordState {
  id: string;
  kms: string;
  kmsId: string;
  region: string;
  arn: string;
  createdAt: string;
  updatedAt: string;
  syncedAt: string;
  syncedAtMs: number;
  /** The change sequence number of the AWS truth this copy was taken at. */
  syncedSeq: number;
  name?: string;
  cached: AwsKeyTruth;
}

interface TruthState {
  truth: AwsKeyTruth;
  changedAtMs: number;
  /**
   * Monotonic change number: two changes, or a change and a sync, can fall in the same millisecond,
   * so staleness is decided on this, not on timestamps (which made auto-sync miss a change).
   */
  changedSeq: number;
}

/** Deterministic UUID-shaped id from a seed string, so seeded keys keep their ids across runs. */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** ARN of a KMS key. */
export function keyArn(region: string, account: string, keyId: string): string {
  return `arn:aws:kms:${region}:${account}:key/${keyId}`;
}

const clone = <T>(v: T): T => structuredClone(v);
const PENDING: ReadonlySet<string> = new Set(['PendingDeletion', 'PendingReplicaDeletion']);

/** A KMS-style failure that CCKM passes through (`KMSInvalidStateException` and friends). */
export class KmsError extends Error {
  constructor(
    readonly exception: string,
    message: string,
  ) {
    super(message);
  }
}

/** The inventory: AWS truth, CCKM records, the operations CCKM performs and the hooks tests use. */
export class KeyStore {
  readonly #truths = new Map<string, TruthState>();
  readonly #records = new Map<string, RecordState>();
  readonly #kmsIds = new Map<string, string>();
  #seq = 0;
  readonly #now: () => number;
  /** Lazy auto-sync: a record whose truth changed at least this long ago reads as synced. */
  autoSyncMs: number | undefined;

  constructor(now: () => number, autoSyncMs?: number) {
    this.#now = now;
    this.autoSyncMs = autoSyncMs;
  }

  /** Removes every key. */
  clear(): void {
    this.#truths.clear();
    this.#records.clear();
  }

  /** Adds a seeded key (truth, and a record unless unmanaged); returns the record, if any. */
  add(seed: SeedKey): SimKeyRecord | undefined {
    const arn = keyArn(seed.region, seed.account, seed.keyId);
    const nowMs = this.#now();
    const created = new Date(nowMs - 90 * 86_400_000).toISOString();
    let state = this.#truths.get(arn);
    if (!state) {
      const window = seed.pendingWindowInDays ?? 30;
      const pending = seed.state === 'PendingDeletion';
      const truth: AwsKeyTruth = {
        KeyID: seed.keyId,
        Arn: arn,
        AWSAccountId: seed.account,
        KeyState: seed.state,
        Enabled: seed.enabled ?? seed.state === 'Enabled',
        Alias: [...(seed.aliases ?? [])],
        Tags: Object.entries(seed.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        Description: seed.description ?? `${seed.name} key`,
        KeyManager: 'CUSTOMER',
        Origin: 'AWS_KMS',
        KeyUsage: 'ENCRYPT_DECRYPT',
        CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        KeySpec: 'SYMMETRIC_DEFAULT',
        CreationDate: created,
        MultiRegion: seed.multiRegion !== undefined,
        ...(pending
          ? {
              DeletionDate: new Date(nowMs + window * 86_400_000).toISOString(),
              PendingDeletionWindowInDays: window,
            }
          : {}),
        ...(seed.state === 'PendingReplicaDeletion' ? { PendingDeletionWindowInDays: window } : {}),
      };
      if (seed.multiRegion) {
        const mr = seed.multiRegion;
        truth.MultiRegionConfiguration = {
          MultiRegionKeyType: mr.type,
          PrimaryKey: { Arn: keyArn(mr.primaryRegion, seed.account, seed.keyId), Region: mr.primaryRegion },
          ReplicaKeys: mr.replicaRegions.map((r) => ({
            Arn: keyArn(r, seed.account, seed.keyId),
            Region: r,
          })),
        };
      }
      state = { truth, changedAtMs: nowMs, changedSeq: ++this.#seq };
      this.#truths.set(arn, state);
    }
    if (seed.managed === false) return undefined;
    const id = seed.id ?? stableUuid(`cckm:${seed.kms}:${arn}`);
    const iso = new Date(nowMs).toISOString();
    const cached = { ...clone(state.truth), ...clone(seed.staleCache ?? {}) };
    if (seed.staleCache && !PENDING.has(cached.KeyState)) {
      delete cached.DeletionDate;
      delete cached.PendingDeletionWindowInDays;
    }
    this.#records.set(id, {
      id,
      kms: seed.kms,
      kmsId: this.#kmsId(seed.kms),
      region: seed.region,
      arn,
      createdAt: created,
      updatedAt: iso,
      syncedAt: iso,
      syncedAtMs: seed.staleCache ? nowMs - 1 : nowMs,
      syncedSeq: seed.staleCache ? state.changedSeq - 1 : state.changedSeq,
      name: seed.name,
      cached,
    });
    return this.#view(this.#records.get(id)!);
  }

  #kmsId(kms: string): string {
    let id = this.#kmsIds.get(kms);
    if (!id) {
      id = stableUuid(`kms:${kms}`);
      this.#kmsIds.set(kms, id);
    }
    return id;
  }

  #autoSync(rec: RecordState): void {
    if (this.autoSyncMs === undefined) return;
    const t = this.#truths.get(rec.arn);
    if (t && t.changedSeq > rec.syncedSeq && this.#now() - t.changedAtMs >= this.autoSyncMs) {
      this.#syncRecord(rec);
    }
  }

  #syncRecord(rec: RecordState): void {
    const t = this.#truths.get(rec.arn);
    const nowMs = this.#now();
    const iso = new Date(nowMs).toISOString();
    if (t) {
      rec.cached = clone(t.truth);
      rec.syncedSeq = t.changedSeq;
    }
    rec.updatedAt = iso;
    rec.syncedAt = iso;
    rec.syncedAtMs = nowMs;
  }

  #view(rec: RecordState): SimKeyRecord {
    const gone = !this.#truths.has(rec.arn);
    return {
      id: rec.id,
      uri: `kylo:kylo:cckm:aws-key:${rec.id}`,
      account: 'kylo:kylo:admin:accounts:kylo',
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      synced_at: rec.syncedAt,
      kms_id: rec.kmsId,
      kms: rec.kms,
      region: rec.region,
      cloud_name: 'aws',
      gone,
      key_material_origin: 'native',
      key_source: 'native',
      deletion_date: rec.cached.DeletionDate ?? '',
      aws_param: clone(rec.cached),
    };
  }

  #peek(rec: RecordState): SimKeyPeek {
    return {
      id: rec.id,
      kms: rec.kms,
      kms_id: rec.kmsId,
      region: rec.region,
      gone: !this.#truths.has(rec.arn),
      aws_param: rec.cached,
    };
  }

  /** Every CCKM record as the API shows it (cached copies), in creation order. */
  list(): SimKeyRecord[] {
    return [...this.#records.values()].map((r) => {
      this.#autoSync(r);
      return this.#view(r);
    });
  }

  /**
   * A listing: filters the records on a read-only peek (no copy), then copies only the page, so a
   * list request costs O(records) cheap tests and O(page) clones. `limit` -1 means every match.
   */
  select(
    match: (r: SimKeyPeek) => boolean,
    skip: number,
    limit: number,
  ): { total: number; page: SimKeyRecord[] } {
    const end = limit === -1 ? Number.POSITIVE_INFINITY : skip + limit;
    const picked: RecordState[] = [];
    let total = 0;
    for (const rec of this.#records.values()) {
      this.#autoSync(rec);
      if (!match(this.#peek(rec))) continue;
      if (total >= skip && total < end) picked.push(rec);
      total += 1;
    }
    return { total, page: picked.map((r) => this.#view(r)) };
  }

  /** Number of CCKM records. */
  get size(): number {
    return this.#records.size;
  }

  /** One CCKM record by CCKM id, as the API shows it. */
  get(id: string): SimKeyRecord | undefined {
    const rec = this.#records.get(id);
    if (!rec) return undefined;
    this.#autoSync(rec);
    return this.#view(rec);
  }

  /** The CCKM record seeded under a handle such as `payments`; throws if there is none. */
  byName(name: string): SimKeyRecord {
    for (const rec of this.#records.values()) {
      if (rec.name === name) return this.#view(rec);
    }
    throw new Error(`no seeded key named ${name}`);
  }

  /** The AWS truth of a key, by CCKM id or by ARN. */
  aws(idOrArn: string): AwsKeyTruth | undefined {
    const t = this.#truthOf(idOrArn);
    return t ? clone(t.truth) : undefined;
  }

  #truthOf(idOrArn: string): TruthState | undefined {
    const rec = this.#records.get(idOrArn);
    return this.#truths.get(rec ? rec.arn : idOrArn);
  }

  /** Test hook: changes the AWS truth only (CCKM's copy goes stale until refresh or auto-sync). */
  setAwsState(
    idOrArn: string,
    patch: Partial<Pick<AwsKeyTruth, 'KeyState' | 'Enabled' | 'Tags' | 'Alias'>>,
  ): void {
    const t = this.#truthOf(idOrArn);
    if (!t) throw new Error(`no AWS key ${idOrArn}`);
    Object.assign(t.truth, clone(patch));
    t.changedAtMs = this.#now();
    t.changedSeq = ++this.#seq;
  }

  /** Test hook: schedules deletion directly in AWS, bypassing CCKM, so CCKM's copy is stale. */
  scheduleDeletionInAws(idOrArn: string, days = 30): AwsKeyTruth {
    const t = this.#truthOf(idOrArn);
    if (!t) throw new Error(`no AWS key ${idOrArn}`);
    this.#schedule(t, days);
    return clone(t.truth);
  }

  /** Test hook: deletes the key in AWS; CCKM's records of it become `gone`. */
  deleteInAws(idOrArn: string): void {
    const t = this.#truthOf(idOrArn);
    if (t) this.#truths.delete(t.truth.Arn);
  }

  /** Brings one record (or every record) in line with the AWS truth now. */
  sync(id?: string): void {
    for (const rec of this.#records.values()) {
      if (id === undefined || rec.id === id) this.#syncRecord(rec);
    }
  }

  /**
   * A synchronization job's effect: every record matching `match` re-reads AWS now. Returns the
   * records synced with their account and Region.
   */
  syncWhere(match: (r: SimKeyPeek) => boolean): { id: string; account: string; region: string }[] {
    const done: { id: string; account: string; region: string }[] = [];
    for (const rec of this.#records.values()) {
      if (!match(this.#peek(rec))) continue;
      this.#syncRecord(rec);
      done.push({ id: rec.id, account: rec.cached.AWSAccountId, region: rec.region });
    }
    return done;
  }

  /** Removes a CCKM record (the AWS key stays). */
  remove(id: string): boolean {
    return this.#records.delete(id);
  }

  /** The record's AWS truth, or a KMS-style NotFoundException when the key is gone from AWS. */
  #liveTruth(rec: RecordState): TruthState {
    const t = this.#truths.get(rec.arn);
    if (!t) throw new KmsError('NotFoundException', `Key '${rec.arn}' does not exist`);
    return t;
  }

  #requireRecord(id: string): RecordState | undefined {
    return this.#records.get(id);
  }

  #schedule(t: TruthState, days: number): void {
    const truth = t.truth;
    if (PENDING.has(truth.KeyState)) {
      throw new KmsError('KMSInvalidStateException', `${truth.Arn} is pending deletion.`);
    }
    const hasReplicas =
      truth.MultiRegionConfiguration?.MultiRegionKeyType === 'PRIMARY' &&
      truth.MultiRegionConfiguration.ReplicaKeys.some((r) => this.#truths.has(r.Arn));
    truth.Enabled = false;
    truth.PendingDeletionWindowInDays = days;
    if (hasReplicas) {
      // A primary with replicas waits for them; AWS reports no deletion date (aws-events.md section 2.4).
      truth.KeyState = 'PendingReplicaDeletion';
      delete truth.DeletionDate;
    } else {
      truth.KeyState = 'PendingDeletion';
      truth.DeletionDate = new Date(this.#now() + days * 86_400_000).toISOString();
    }
    t.changedAtMs = this.#now();
    t.changedSeq = ++this.#seq;
  }

  /** CCKM cancel-deletion: acts on the AWS truth (CCKM calls KMS), then updates the cached copy. */
  cancelDeletion(id: string): SimKeyRecord | undefined {
    const rec = this.#requireRecord(id);
    if (!rec) return undefined;
    const t = this.#liveTruth(rec);
    if (!PENDING.has(t.truth.KeyState)) {
      throw new KmsError('KMSInvalidStateException', `${t.truth.Arn} is not pending deletion.`);
    }
    t.truth.KeyState = 'Disabled';
    t.truth.Enabled = false;
    delete t.truth.DeletionDate;
    delete t.truth.PendingDeletionWindowInDays;
    t.changedAtMs = this.#now();
    t.changedSeq = ++this.#seq;
    this.#syncRecord(rec);
    return this.#view(rec);
  }

  /** CCKM enable / disable: refused by KMS while the key is pending deletion. */
  setEnabled(id: string, enabled: boolean): SimKeyRecord | undefined {
    const rec = this.#requireRecord(id);
    if (!rec) return undefined;
    const t = this.#liveTruth(rec);
    if (PENDING.has(t.truth.KeyState)) {
      throw new KmsError('KMSInvalidStateException', `${t.truth.Arn} is pending deletion.`);
    }
    t.truth.Enabled = enabled;
    t.truth.KeyState = enabled ? 'Enabled' : 'Disabled';
    t.changedAtMs = this.#now();
    t.changedSeq = ++this.#seq;
    this.#syncRecord(rec);
    return this.#view(rec);
  }

  /** CCKM schedule-deletion (7-30 days; the caller validates `days`). */
  scheduleDeletion(id: string, days: number): SimKeyRecord | undefined {
    const rec = this.#requireRecord(id);
    if (!rec) return undefined;
    this.#schedule(this.#liveTruth(rec), days);
    this.#syncRecord(rec);
    return this.#view(rec);
  }

  /** True when a CCKM record with this id exists. */
  has(id: string): boolean {
    return this.#records.has(id);
  }
}
