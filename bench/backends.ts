import type { FunctionName } from '../infra/bundling.ts';
import { type AwsStandIns, startAwsStandIns } from '../local/aws/index.ts';
import {
  type SeedKey,
  type SeedUser,
  type Simulator,
  type SimulatorTls,
  startSimulator,
} from '../local/simulator/index.ts';
import { lambdaProcessEnv } from './lambda-heap.ts';

/** Name of the CipherTrust Manager secret in the Secrets Manager stand-in. */
export const BENCH_SECRET_ID = 'cckm/deletion-guard-bench';
const TOPIC_NAME = 'cckm-deletion-guard-bench';

/** What every measure that talks to CipherTrust Manager runs against. */
export interface Backends {
  readonly sim: Simulator;
  readonly aws: AwsStandIns;
  /** The functions' environment: CipherTrust Manager, the stand-ins, the policy and the log level. */
  readonly env: Readonly<Record<string, string>>;
  /** GetSecretValue calls the stand-in answered for the bench secret so far. */
  secretReads(): number;
  /** Token grants the simulator gave so far, any grant type. */
  tokenGrants(): number;
  /** Puts the given keys back into PendingDeletion (the cancels of the last run took them out). */
  repend(ids: readonly string[]): void;
  close(): Promise<void>;
}

/** Options of `startBackends`. */
export interface BackendOptions {
  /** The function the measure runs (its memory size sets the children's heap, as Lambda's runtime does). */
  readonly fn: FunctionName;
  readonly keys: readonly SeedKey[];
  /** Shared by every simulator of a run, so the pinned CA and the refresh token stay the same. */
  readonly tls: SimulatorTls;
  readonly users: readonly SeedUser[];
  /** Powertools log level of the functions; WARN unless a measure is about logging. */
  readonly logLevel?: 'WARN' | 'INFO';
  /** Extra environment of the function (the ledger's table and endpoint, say). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/**
 * Starts a CipherTrust Manager simulator seeded with `keys` and the Secrets Manager and SNS stand-ins,
 * all on 127.0.0.1, and writes the secret as users do: a refresh token and the simulator's CA pinned
 * in `ca_cert` (not CCKM_TLS_INSECURE), so TLS verification costs what it costs in production.
 */
export async function startBackends(options: BackendOptions): Promise<Backends> {
  const sim = await startSimulator({ tls: options.tls, seed: { keys: options.keys, users: options.users } });
  const aws = await startAwsStandIns().catch(async (error: unknown) => {
    await sim.close();
    throw error;
  });
  aws.secrets.put(BENCH_SECRET_ID, { refresh_token: sim.credentials.refreshToken, ca_cert: sim.caPem });
  const topicArn = aws.sns.createTopic(TOPIC_NAME);
  const env: Record<string, string> = {
    ...aws.env(),
    ...lambdaProcessEnv(options.fn),
    CCKM_URL: sim.url,
    CCKM_SECRET_ID: BENCH_SECRET_ID,
    NOTIFY_TOPIC_ARN: topicArn,
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
    POWERTOOLS_SERVICE_NAME: 'cckm-deletion-guard',
    POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
    ...options.extraEnv,
  };
  return {
    sim,
    aws,
    env,
    secretReads: () => aws.secrets.reads(BENCH_SECRET_ID),
    tokenGrants: () => sim.counters.tokenGrants.password + sim.counters.tokenGrants.refresh_token,
    repend(ids) {
      for (const id of ids) {
        const state = sim.keys.get(id)?.aws_param.KeyState;
        if (state !== 'PendingDeletion') sim.keys.scheduleDeletion(id, 7);
      }
    },
    async close() {
      await Promise.allSettled([sim.close(), aws.close()]);
    },
  };
}

/** CCKM ids of the seeded keys, in seed order (the simulator lists records in creation order). */
export function seededIds(backends: Backends): string[] {
  return backends.sim.keys.list().map((record) => record.id);
}
