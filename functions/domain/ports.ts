import type { PolicySettings } from '../shared/settings.ts';
import type { GuardMetric } from '../shared/telemetry.ts';
import type { AwsKeyRef } from './aws-key-ref.ts';
import type { DigestNotification } from './digest.ts';
import type { Ledger } from './ledger.ts';
import type { ManagedKey } from './managed-key.ts';
import type { OutcomeNotification } from './outcome-notification.ts';
import type { KeyIdentity, OutcomeRecord } from './remediation-outcome.ts';
import type { DeploymentScope } from './scope.ts';

/** Per-call limits: the call (with retries) must finish before `deadline` (epoch ms), when given. */
export interface CallOptions {
  readonly deadline?: number;
}

/** What a cancel-deletion call did. */
export interface CancelResult {
  /** `not-pending`: the key was not pending deletion, so nothing changed (however CM reported it). */
  readonly outcome: 'cancelled' | 'not-pending';
  /** The key record after the call, when CipherTrust Manager returned one. */
  readonly key?: ManagedKey;
}

/** A listed record that could not be read as a key: decided `failed`, with whatever identity it has. */
export interface UnreadableKey {
  readonly unreadable: true;
  readonly identity: KeyIdentity;
  readonly reason: string;
}

/** Progress of a listing, reported after each page. */
export interface PageInfo {
  readonly page: number;
  readonly fetched: number;
  readonly total: number;
}

/**
 * The CipherTrust Manager operations the guard uses: the domain's port, so domain modules depend on
 * this interface and never on an adapter. Implemented over undici by `adapters/cckm-client.ts`;
 * faked in domain tests. Every method validates ids before building a URL.
 *
 * Errors: NotFoundError (unknown CCKM id), UpstreamError / AuthenticationError (CM failed after
 * retries or refused our credentials), TimeoutError (budget spent), ConfigError (bad secret).
 */
export interface CckmApi {
  /** Reads one key by CCKM id. */
  getKey(id: string, options?: CallOptions): Promise<ManagedKey>;
  /**
   * Finds the CCKM record of an AWS key (KeyId + Region, narrowed by account when known).
   * Returns undefined when CCKM does not know it; throws UpstreamError when several records match
   * and the account cannot tell them apart.
   */
  findAwsKey(ref: AwsKeyRef, options?: CallOptions): Promise<ManagedKey | undefined>;
  /**
   * Lists every key in `PendingDeletion` or `PendingReplicaDeletion`, page by page, in `regions` only
   * when given (a repeated `region` filter). A record that cannot be read is yielded as an
   * UnreadableKey, so the others are still decided. When the listing fails part-way (its page cap
   * included), the keys already read are yielded before the error is thrown.
   */
  listPendingDeletion(
    options?: CallOptions & { onPage?: (info: PageInfo) => void; regions?: readonly string[] },
  ): AsyncIterable<ManagedKey | UnreadableKey>;
  /**
   * Cancels a scheduled deletion; a key not pending deletion is `not-pending`, not an error. After an
   * attempt whose answer was lost and then "not pending deletion", the key is read again: no longer
   * pending is `cancelled` (with that record), since the lost attempt may have cancelled it.
   */
  cancelDeletion(id: string, options?: CallOptions): Promise<CancelResult>;
  /** Enables the key in AWS (a cancel leaves it Disabled). */
  enableKey(id: string, options?: CallOptions): Promise<ManagedKey | undefined>;
  /**
   * Starts one CCKM synchronization job over `regions` (every Region when absent), so CCKM re-reads
   * its keys from AWS; never waits for it. `already-running` when a job is in progress: CCKM runs one
   * at a time, and the running one serves the same purpose.
   */
  startSynchronization(
    request: { readonly regions?: readonly string[] },
    options?: CallOptions,
  ): Promise<SynchronizationStart>;
}

/** What asking for a synchronization job did. */
export type SynchronizationStart = 'started' | 'already-running';
/** What the notifier publishes: one key's message (CloudTrail event) or a sweep's digest. */
export type Notification = OutcomeNotification | DigestNotification;

/** Everything the remediation flow touches, injected by the handler. */
export interface RemediationPorts {
  readonly cckm: CckmApi;
  readonly policy: PolicySettings;
  /** Writes one audit line per key. */
  readonly audit: (record: OutcomeRecord) => void;
  /** Writes progress and summary lines. */
  readonly progress: (message: string, fields: Readonly<Record<string, unknown>>) => void;
  /** Writes a warning (a ledger call that failed); progress lines when absent. */
  readonly warn?: (message: string, fields: Readonly<Record<string, unknown>>) => void;
  /**
   * Writes an error that is not an `AppError` (a defect rather than CCKM's answer), with its stack, next
   * to the key's `failed` audit line; absent: only the audit line's reason tells.
   */
  readonly unexpected?: (message: string, error: unknown, fields: Readonly<Record<string, unknown>>) => void;
  /**
   * Publishes one notification; absent when no topic is configured. Resolving `false` (or rejecting)
   * means it was not published; the domain counts that and, when the message was an event's only
   * effect, makes the handler throw once everything is decided.
   */
  readonly notify?: (notification: Notification) => Promise<boolean>;
  /** Remembers decisions and spoke heartbeats (contract section 7); absent without `LEDGER_TABLE`. */
  readonly ledger?: Ledger;
  /**
   * Adds to a counter the handler writes as a CloudWatch metric (EMF): `LedgerErrors` (a ledger call
   * failed), `NotificationsFailed` (a publish failed), `SilentSpokes` (per sweep with coverage).
   */
  readonly metric?: (name: GuardMetric, value: number) => void;
  readonly now: () => number;
  /** Epoch ms by which every CipherTrust Manager call must have finished. */
  readonly deadline: number;
  /** Keys decided at once during a sweep; bounds sockets and CipherTrust Manager load. */
  readonly concurrency?: number;
  /** A key is not started when less than this is left before the deadline. */
  readonly minKeyBudgetMs?: number;
  /** A progress line every this many decided keys during a sweep. */
  readonly progressEvery?: number;
  /** The accounts and Regions this deployment protects (default: all). */
  readonly scope?: DeploymentScope;
  /** A sweep ends by starting a CCKM synchronization job for the Regions in scope (SWEEP_SYNC). */
  readonly sweepSync?: boolean;
}
