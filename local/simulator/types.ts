import type { Faults } from './faults.ts';
import type { Seed } from './seed.ts';
import type { KeyStore } from './store.ts';
import type { SimulatorTls } from './tls.ts';

/** Options of `startSimulator`. */
export interface SimulatorOptions {
  /** Port on 127.0.0.1; default 0 (a free port). */
  readonly port?: number;
  /** Inventory and users; default `defaultSeed()` (random credentials, `SEED_KEYS`). */
  readonly seed?: Seed;
  /** JWT lifetime (`duration`, `exp - iat`); default 300 s as on CipherTrust Manager. */
  readonly tokenLifetimeSec?: number;
  /** Delay before an async `refresh` updates CCKM's copy; default 50 ms. */
  readonly refreshDelayMs?: number;
  /** When set, CCKM's copy catches up with AWS this long after a change made outside CCKM. */
  readonly autoSyncMs?: number;
  /** Reject requests without `Accept: application/json` (400), as CM does on /crypto; default false. */
  readonly requireAcceptJson?: boolean;
  /** Which `alias` filter values match `alias/<name>`: both forms (default), only `alias/…`, only bare. */
  readonly aliasFilter?: 'both' | 'prefixed' | 'bare';
  /** Reuse TLS material (saves ~100 ms per start in tests); default: generated at start. */
  readonly tls?: SimulatorTls;
  /** Delay from a synchronization job's start to its completion (CCKM's copies refreshed); default 200 ms. */
  readonly syncJobDelayMs?: number;
  /** Print one line per request to stderr (never a token or a password). */
  readonly verbose?: boolean;
}

/** Credentials of the first seeded user, to write into the Secrets Manager stand-in. */
export interface SimulatorCredentials {
  readonly username: string;
  readonly password: string;
  readonly refreshToken: string;
}

/** One request as the simulator saw it. Never holds a token, password or body. */
export interface SimRequestLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly method: string;
  readonly path: string;
  /** Raw query string without `?` (CCKM filters only; never credentials). */
  readonly query: string;
  /** Route pattern, e.g. `POST /api/v1/cckm/aws/keys/{id}/cancel-deletion`. */
  readonly route: string;
  /** HTTP status, or 0 when the connection was reset. */
  readonly status: number;
  /** Whether an Authorization header was present, and of which scheme. */
  readonly authorization: 'bearer' | 'other' | 'none';
  readonly acceptJson: boolean;
  /** `grant_type` of a token request. */
  readonly grantType?: string;
  /** The fault that took over the request: `status`, `reset`, `delay`. */
  readonly fault?: string;
  readonly ms: number;
}

/** Counters for assertions; `reset()` zeroes them. */
export interface SimCounters {
  /** TCP connections accepted (a new connection per retry shows keep-alive is not reused). */
  connections: number;
  requests: number;
  /** Successful token grants by grant type. */
  tokenGrants: { password: number; refresh_token: number };
  /** Token requests refused (401/400). */
  tokenRejections: number;
  /** Refresh tokens minted (every password grant mints one, as real CM does). */
  refreshTokensMinted: number;
  /** Requests per route pattern. */
  byRoute: Record<string, number>;
  /** Requests a fault rule took over. */
  faulted: number;
  /**
   * Token requests as the client sent them, by `grant_type` (`(none)` when absent), counted on
   * arrival: refused and faulted requests included (`tokenGrants` counts only successful grants).
   */
  tokenRequests: Record<string, number>;
  /** The last password-grant request as sent (before any fault), without the password. */
  lastPasswordGrant?: PasswordGrantFields;
  /** CCKM synchronization jobs started (`POST /api/v1/cckm/aws/synchronization-jobs` answered 201). */
  syncJobsStarted: number;
}

/** What a password-grant request carried: every field name, and the values of all but secrets. */
export interface PasswordGrantFields {
  /** Every field name sent, sorted (`password` included: its value never is). */
  readonly fields: readonly string[];
  /**
   * Every value except `password` and `refresh_token`, strings cut at 200 characters, e.g.
   * `{ grant_type: 'password', username, labels: ['cckm-deletion-guard'], refresh_token_revoke_unused_in: 60 }`.
   */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Status of a CCKM synchronization job. */
export type SyncJobStatus = 'in_progress' | 'completed' | 'cancelled';

/** A CCKM AWS synchronization job as the API shows it. */
export interface SimSyncJob {
  readonly id: string;
  readonly uri: string;
  readonly account: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** `in_progress` until the job's delay has passed (or it was completed / cancelled by hand). */
  readonly status: SyncJobStatus;
  /** The same value under the name the CCKM documentation uses. */
  readonly overall_status: SyncJobStatus;
  /** KMS container names or ids asked for; empty means every container. */
  readonly kms: readonly string[];
  /** Regions asked for; empty means every Region. */
  readonly regions: readonly string[];
  readonly synchronize_all: boolean;
  /** Per `"<account>/<region>"` synchronized: `completed` once the job is. */
  readonly detailed_status: Readonly<Record<string, SyncJobStatus>>;
  /** CCKM records refreshed from AWS when the job completed. */
  readonly keys_synchronized: number;
  readonly completed_at?: string;
}

/** Synchronization jobs of a running simulator (test hooks). */
export interface SimSyncJobs {
  /** Every job since the last `reset()`, oldest first (copies). */
  list(): SimSyncJob[];
  get(id: string): SimSyncJob | undefined;
  /** Completes running jobs now (all, or the one given), refreshing CCKM's copies; returns them. */
  completeNow(id?: string): SimSyncJob[];
  /** Delay from start to completion of jobs started from now on (ms). */
  delayMs: number;
}

/** A running CipherTrust Manager simulator. */
export interface Simulator {
  /** `https://127.0.0.1:<port>`: set as `CCKM_URL`. */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate: put it in the secret's `ca_cert`. */
  readonly caPem: string;
  readonly credentials: SimulatorCredentials;
  /** Inventory: AWS truth and CCKM records, with test hooks (`scheduleDeletionInAws`, ...). */
  readonly keys: KeyStore;
  readonly faults: Faults;
  /** CCKM synchronization jobs: list, complete now, change the delay. */
  readonly syncJobs: SimSyncJobs;
  /** Request log since the last `reset()` (a copy). */
  readonly requests: readonly SimRequestLogEntry[];
  /** Requests whose path matches a glob (`*` = any run of characters), optionally one method. */
  requestsTo(pathGlob: string, method?: string): SimRequestLogEntry[];
  readonly counters: SimCounters;
  /** Users: change a password or add / revoke refresh tokens (credential rotation). */
  readonly users: SimUsers;
  /** Moves the simulator's clock (token expiry, dates) forward. */
  advanceClock(seconds: number): void;
  /** Clears faults, log and counters, restores seeded users and, unless `keepKeys`, the inventory. */
  reset(options?: { keepKeys?: boolean }): void;
  close(): Promise<void>;
}

/** User administration of a running simulator. */
export interface SimUsers {
  setPassword(username: string, password: string): void;
  /** Issues a new refresh token for the user (as a rotation would) and returns it. */
  issueRefreshToken(username: string): string;
  revokeRefreshToken(token: string): void;
}
