import type { CallOptions, CancelResult, CckmApi, PageInfo } from '../../functions/adapters/cckm-api.ts';
import type { AwsKeyRef } from '../../functions/domain/aws-key-ref.ts';
import type { CckmKey } from '../../functions/domain/cckm-key.ts';
import { NotFoundError } from '../../functions/shared/errors.ts';

/** One recorded call to the fake. */
export interface FakeCall {
  readonly method: keyof CckmApi;
  readonly args: readonly unknown[];
}

/** Builds a CCKM key record with sensible defaults for tests. */
export function makeKey(overrides: Partial<CckmKey> & { aws?: Partial<CckmKey['aws_param']> } = {}): CckmKey {
  const { aws, ...rest } = overrides;
  const keyId = aws?.KeyID ?? '1234abcd-12ab-34cd-56ef-1234567890ab';
  const region = rest.region ?? 'us-west-2';
  const account = aws?.AWSAccountId ?? '111122223333';
  return {
    id: '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f9a0b1c',
    region,
    kms: 'kms-prod',
    ...rest,
    aws_param: {
      KeyID: keyId,
      Arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
      AWSAccountId: account,
      KeyState: 'PendingDeletion',
      Enabled: false,
      Alias: ['alias/payments'],
      Tags: [],
      ...aws,
    },
  };
}

/**
 * An in-memory CckmApi that records every call, for domain and handler tests. Keys are looked up by
 * CCKM id and by KeyId + Region; cancel and enable change the stored record as CCKM would.
 */
export class FakeCckm implements CckmApi {
  readonly calls: FakeCall[] = [];
  readonly keys = new Map<string, CckmKey>();
  /** Errors to throw, by method, once each. */
  readonly failNext = new Map<keyof CckmApi, Error>();

  constructor(keys: readonly CckmKey[] = []) {
    for (const key of keys) this.keys.set(key.id, key);
  }

  private enter(method: keyof CckmApi, args: unknown[]): void {
    this.calls.push({ method, args });
    const error = this.failNext.get(method);
    if (error) {
      this.failNext.delete(method);
      throw error;
    }
  }

  /** The methods called, in order. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  async getKey(id: string, options?: CallOptions): Promise<CckmKey> {
    this.enter('getKey', [id, options]);
    const key = this.keys.get(id);
    if (!key) throw new NotFoundError(`CCKM key ${id} not found`);
    return key;
  }

  async findAwsKey(ref: AwsKeyRef, options?: CallOptions): Promise<CckmKey | undefined> {
    this.enter('findAwsKey', [ref, options]);
    return [...this.keys.values()].find(
      (k) =>
        k.aws_param.KeyID === ref.keyId &&
        k.region === ref.region &&
        (ref.account === undefined || k.aws_param.AWSAccountId === ref.account),
    );
  }

  async findAwsKeyByAlias(
    alias: string,
    region: string,
    options?: CallOptions,
  ): Promise<CckmKey | undefined> {
    this.enter('findAwsKeyByAlias' as keyof CckmApi, [alias, region, options]);
    const name = alias.startsWith('alias/') ? alias : `alias/${alias}`;
    return [...this.keys.values()].find((k) => k.region === region && k.aws_param.Alias?.includes(name));
  }

  async *listPendingDeletion(
    options?: CallOptions & { onPage?: (info: PageInfo) => void },
  ): AsyncIterable<CckmKey> {
    this.enter('listPendingDeletion', [options]);
    const pending = [...this.keys.values()].filter((k) =>
      ['PendingDeletion', 'PendingReplicaDeletion'].includes(k.aws_param.KeyState),
    );
    options?.onPage?.({ page: 1, fetched: pending.length, total: pending.length });
    yield* pending;
  }

  async cancelDeletion(id: string, options?: CallOptions): Promise<CancelResult> {
    this.enter('cancelDeletion', [id, options]);
    const key = this.keys.get(id);
    if (!key) throw new NotFoundError(`CCKM key ${id} not found`);
    if (!['PendingDeletion', 'PendingReplicaDeletion'].includes(key.aws_param.KeyState)) {
      return { outcome: 'not-pending' };
    }
    const after = { ...key, aws_param: { ...key.aws_param, KeyState: 'Disabled', Enabled: false } };
    this.keys.set(id, after);
    return { outcome: 'cancelled', key: after };
  }

  async enableKey(id: string, options?: CallOptions): Promise<CckmKey | undefined> {
    this.enter('enableKey', [id, options]);
    const key = this.keys.get(id);
    if (!key) throw new NotFoundError(`CCKM key ${id} not found`);
    const after = { ...key, aws_param: { ...key.aws_param, KeyState: 'Enabled', Enabled: true } };
    this.keys.set(id, after);
    return after;
  }
}
