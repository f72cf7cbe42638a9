import { readFileSync } from 'node:fs';
import type { AwsKeyRef } from '../../functions/domain/aws-key-ref.ts';
import { isPendingDeletion, type ManagedKey } from '../../functions/domain/managed-key.ts';
import type {
  CallOptions,
  CancelResult,
  CckmApi,
  PageInfo,
  SynchronizationStart,
} from '../../functions/domain/ports.ts';
import type { PolicyConfig } from '../../functions/shared/config.ts';
import { NotFoundError } from '../../functions/shared/errors.ts';

/**
 * Test doubles for the domain and handler tests (API route and remediation): a CipherTrust Manager
 * whose copy of a key can differ from AWS (the stale-cache case), that records every call with its
 * deadline, pages its listing, can be slowed down to measure concurrency and can fail any call on demand.
 */

export type Method =
  | 'getKey'
  | 'findAwsKey'
  | 'listPendingDeletion'
  | 'cancelDeletion'
  | 'enableKey'
  | 'startSynchronization';

export interface Call {
  readonly method: Method;
  readonly id?: string;
  readonly ref?: AwsKeyRef;
  /** The Regions a listing or synchronization asked for. */
  readonly regions?: readonly string[];
  readonly deadline?: number;
}

let counter = 0;

/** A CCKM id that is a valid UUID and unique within the test run. */
export function uniqueCckmId(n = ++counter): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A managed key as the CipherTrust Manager adapter hands it to the domain. */
export function key(
  options: {
    id?: string;
    keyId?: string;
    region?: string;
    account?: string;
    state?: string;
    aliases?: string[];
    tags?: { key: string; value: string }[];
    gone?: boolean;
    deletionDate?: string;
  } = {},
): ManagedKey {
  const region = options.region ?? 'us-west-2';
  const account = options.account ?? '111122223333';
  const keyId = options.keyId ?? '1234abcd-12ab-34cd-56ef-1234567890ab';
  return {
    cckmId: options.id ?? uniqueCckmId(),
    arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
    keyId,
    account,
    region,
    aliases: options.aliases ?? ['alias/payments'],
    tags: options.tags ?? [],
    state: options.state ?? 'PendingDeletion',
    gone: options.gone ?? false,
    ...(options.deletionDate === undefined ? {} : { deletionDate: options.deletionDate }),
  };
}

/** The key with another state, as CCKM's record would show it after a change. */
export function withState(record: ManagedKey, state: string): ManagedKey {
  return { ...record, state };
}

/** Builds a policy; defaults are the contract's. */
export function policyOf(overrides: Partial<PolicyConfig> = {}): PolicyConfig {
  return {
    mode: 'remediate',
    reenable: 'if-previously-enabled',
    allowedPrincipals: [],
    exemptTag: { key: 'deletion-guard:exempt', value: 'true' },
    notifyTopicArn: undefined,
    ...overrides,
  };
}

/** An in-memory CipherTrust Manager plus the AWS truth behind it. */
export class FakeCm implements CckmApi {
  readonly calls: Call[] = [];
  /** CCKM's copy, by CCKM id. */
  readonly records = new Map<string, ManagedKey>();
  /** The key state in AWS, by CCKM id; defaults to CCKM's copy. */
  readonly aws = new Map<string, string>();
  /** Throws this error from the named method (every call, or the ids listed). */
  readonly failures = new Map<Method, { error: Error; ids?: readonly string[] }>();
  pageSize = 100;
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Whether a synchronization job is running (startSynchronization answers `already-running`). */
  syncRunning = false;
  /** Called at the start of every call (e.g. to advance a fake clock). */
  onCall: (method: Method) => void = () => undefined;

  constructor(keys: readonly ManagedKey[] = []) {
    for (const k of keys) this.records.set(k.cckmId, k);
  }

  /** Makes CCKM's copy stale: AWS has the key in `awsState`, CCKM still shows the record's state. */
  setAwsState(id: string, awsState: string): void {
    this.aws.set(id, awsState);
  }

  stateChangingCalls(): Call[] {
    return this.calls.filter((c) => c.method === 'cancelDeletion' || c.method === 'enableKey');
  }

  methods(): Method[] {
    return this.calls.map((c) => c.method);
  }

  private async enter(call: Call): Promise<void> {
    this.calls.push(call);
    this.onCall(call.method);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      else await Promise.resolve();
    } finally {
      this.inFlight -= 1;
    }
    const failure = this.failures.get(call.method);
    if (failure && (failure.ids === undefined || (call.id !== undefined && failure.ids.includes(call.id)))) {
      throw failure.error;
    }
  }

  private awsStateOf(id: string): string | undefined {
    return this.aws.get(id) ?? this.records.get(id)?.state;
  }

  async getKey(id: string, options?: CallOptions): Promise<ManagedKey> {
    await this.enter({ method: 'getKey', id, deadline: options?.deadline });
    const record = this.records.get(id);
    if (!record) throw new NotFoundError(`CCKM does not know key ${id}`);
    return record;
  }

  async findAwsKey(ref: AwsKeyRef, options?: CallOptions): Promise<ManagedKey | undefined> {
    await this.enter({ method: 'findAwsKey', ref, deadline: options?.deadline });
    return [...this.records.values()].find(
      (k) =>
        k.keyId === ref.keyId &&
        k.region === ref.region &&
        (ref.account === undefined || k.account === ref.account),
    );
  }

  async *listPendingDeletion(
    options?: CallOptions & { onPage?: (info: PageInfo) => void; regions?: readonly string[] },
  ): AsyncIterable<ManagedKey> {
    const regions = options?.regions;
    const pending = [...this.records.values()].filter(
      (k) => isPendingDeletion(k) && (regions === undefined || regions.includes(k.region)),
    );
    let page = 0;
    for (let offset = 0; offset < pending.length || page === 0; offset += this.pageSize) {
      page += 1;
      await this.enter({
        method: 'listPendingDeletion',
        deadline: options?.deadline,
        ...(regions && { regions }),
      });
      const slice = pending.slice(offset, offset + this.pageSize);
      options?.onPage?.({ page, fetched: offset + slice.length, total: pending.length });
      yield* slice;
      if (slice.length === 0) break;
    }
  }

  async cancelDeletion(id: string, options?: CallOptions): Promise<CancelResult> {
    await this.enter({ method: 'cancelDeletion', id, deadline: options?.deadline });
    const record = this.records.get(id);
    if (!record) throw new NotFoundError(`CCKM does not know key ${id}`);
    // AWS decides: CM passes KMSInvalidStateException through, which the client maps to not-pending.
    if (!isPendingDeletion({ state: this.awsStateOf(id) ?? '' })) return { outcome: 'not-pending' };
    this.aws.set(id, 'Disabled');
    const after = withState(record, 'Disabled');
    this.records.set(id, after);
    return { outcome: 'cancelled', key: after };
  }

  async enableKey(id: string, options?: CallOptions): Promise<ManagedKey | undefined> {
    await this.enter({ method: 'enableKey', id, deadline: options?.deadline });
    const record = this.records.get(id);
    if (!record) throw new NotFoundError(`CCKM does not know key ${id}`);
    this.aws.set(id, 'Enabled');
    const after = withState(record, 'Enabled');
    this.records.set(id, after);
    return after;
  }

  /** Starts a job unless one runs; the job itself (refreshing CCKM's copies) is the test's to play. */
  async startSynchronization(
    request: { readonly regions?: readonly string[] },
    options?: CallOptions,
  ): Promise<SynchronizationStart> {
    await this.enter({
      method: 'startSynchronization',
      deadline: options?.deadline,
      ...(request.regions && { regions: request.regions }),
    });
    if (this.syncRunning) return 'already-running';
    this.syncRunning = true;
    return 'started';
  }
}

/** Loads a documented event from test/fixtures/events (a fresh copy each time). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));
}
