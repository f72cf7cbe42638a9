import type { AwsKeyRef } from './aws-key-ref.ts';
import type { CckmKey } from './cckm-key.ts';

/** Per-call limits: the call (with retries) must finish before `deadline` (epoch ms), when given. */
export interface CallOptions {
  readonly deadline?: number;
}

/** What a cancel-deletion call did. */
export interface CancelResult {
  /** `not-pending`: the key was not pending deletion, so nothing changed (however CM reported it). */
  readonly outcome: 'cancelled' | 'not-pending';
  /** The key record after the call, when CipherTrust Manager returned one. */
  readonly key?: CckmKey;
}

/** Progress of a listing, reported after each page. */
export interface PageInfo {
  readonly page: number;
  readonly fetched: number;
  readonly total: number;
}

/**
 * The CipherTrust Manager operations the guard uses: the domain's port, so domain modules depend on
 * this interface and never on an adapter. Implemented over undici by `cckm-client.ts`;
 * faked in domain tests. Every method validates ids before building a URL.
 *
 * Errors: NotFoundError (unknown CCKM id), UpstreamError / AuthenticationError (CM failed after
 * retries or refused our credentials), TimeoutError (budget spent), ConfigError (bad secret).
 */
export interface CckmApi {
  /** Reads one key by CCKM id. */
  getKey(id: string, options?: CallOptions): Promise<CckmKey>;
  /**
   * Finds the CCKM record of an AWS key (KeyId + Region, narrowed by account when known).
   * Returns undefined when CCKM does not know it; throws UpstreamError when several records match
   * and the account cannot tell them apart.
   */
  findAwsKey(ref: AwsKeyRef, options?: CallOptions): Promise<CckmKey | undefined>;
  /**
   * Finds the CCKM record of a KMS alias (`alias/<name>` or the bare name) in one Region; tries the
   * bare name, then `alias/<name>`, because the form CCKM's filter wants is unverified.
   */
  findAwsKeyByAlias(alias: string, region: string, options?: CallOptions): Promise<CckmKey | undefined>;
  /** Lists every key in `PendingDeletion` or `PendingReplicaDeletion`, page by page. */
  listPendingDeletion(options?: CallOptions & { onPage?: (info: PageInfo) => void }): AsyncIterable<CckmKey>;
  /** Cancels a scheduled deletion; a key not pending deletion is `not-pending`, not an error. */
  cancelDeletion(id: string, options?: CallOptions): Promise<CancelResult>;
  /** Enables the key in AWS (a cancel leaves it Disabled). */
  enableKey(id: string, options?: CallOptions): Promise<CckmKey | undefined>;
}
