import { generatePendingKeys, type SeedUser, type SimulatorTls } from '../../local/simulator/index.ts';
import { seededIds, startBackends } from '../backends.ts';
import type { Counts } from '../children/protocol.ts';
import { type LockstepSide, lockstepRound } from '../lockstep.ts';
import { quantile, round } from '../stats.ts';

/** Inputs of the warm-overhead measure. */
export interface WarmOptions {
  readonly harness: string;
  readonly guardFile: string;
  readonly floorFile: string;
  /** Timed invocations per process. */
  readonly iterations: number;
  /** Untimed invocations first: the cold start, the token, JIT warm-up. */
  readonly warmup: number;
  /** Rounds: one process per side each, all sides in lockstep (`bench/lockstep.ts`); samples are pooled. */
  readonly rounds: number;
  readonly tls: SimulatorTls;
  readonly users: readonly SeedUser[];
}

/** Latency quantiles of one side, in ms. */
export interface SideFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** stdout bytes per invocation (log lines). */
  readonly logBytesPerInvocation: number;
}

/** Warm-overhead figures. */
export interface WarmFigures {
  /** Guard ÷ floor at p50 and p99, Powertools log level WARN (the bench's setting). */
  readonly ratio: { readonly p50: number; readonly p99: number };
  /** The same with POWERTOOLS_LOG_LEVEL=INFO: one `cancel-deletion` line per invocation to stdout. */
  readonly ratioInfoLogging: { readonly p50: number; readonly p99: number };
  readonly guard: SideFigures;
  readonly guardInfoLogging: SideFigures;
  readonly floor: SideFigures;
  /** Peak RSS of a guard process over warm-up and the timed invocations, MiB. */
  readonly peakRssMb: number;
  readonly iterations: number;
  readonly rounds: number;
  /** Guard (WARN) ÷ floor of each round alone: how far one set of processes moves the ratio. */
  readonly perRound: readonly { readonly p50: number; readonly p99: number }[];
}

type Side = 'floor' | 'guard' | 'guardInfoLogging';

/**
 * Warm API invocations against the simulator, each on a different key pending deletion (so every one
 * is a real cancel: GET key + POST cancel-deletion), ÷ the same two requests made with bare undici.
 * Each round runs one process per side (floor, guard, guard at INFO) in lockstep: one invocation of
 * each side per step, the order rotating, so the machine's load falls on every side alike. Each side
 * has its own keys; they are put back to PendingDeletion by the simulator's in-process API between
 * rounds, never inside a timed region.
 */
export async function warmOverhead(options: WarmOptions): Promise<WarmFigures> {
  const total = options.warmup + options.iterations;
  const sideNames: readonly Side[] = ['floor', 'guard', 'guardInfoLogging'];
  const backends = await startBackends({
    fn: 'cancel-deletion',
    keys: generatePendingKeys(sideNames.length * total, { prefix: 'warm' }),
    tls: options.tls,
    users: options.users,
  });
  const infoEnv = { ...backends.env, POWERTOOLS_LOG_LEVEL: 'INFO' };
  try {
    const ids = seededIds(backends);
    const own = (i: number) => ids.slice(i * total, (i + 1) * total);
    const sides: LockstepSide<Side>[] = [
      { side: 'floor', file: options.floorFile, env: backends.env, items: own(0) },
      { side: 'guard', file: options.guardFile, env: backends.env, items: own(1) },
      { side: 'guardInfoLogging', file: options.guardFile, env: infoEnv, items: own(2) },
    ];
    const samples: Record<Side, number[]> = { floor: [], guard: [], guardInfoLogging: [] };
    const perRound: { p50: number; p99: number }[] = [];
    const logBytes: Record<Side, number> = { floor: 0, guard: 0, guardInfoLogging: 0 };
    let peakRssKb = 0;
    for (let pass = 0; pass < options.rounds; pass++) {
      backends.repend(ids);
      const got = await lockstepRound({
        harness: options.harness,
        kind: 'api',
        sides,
        warmup: options.warmup,
        timeoutMs: 600_000,
      });
      for (const side of sideNames) {
        const { samplesMs, reply, stdoutBytes } = got[side];
        expectAllCancelled(reply.outcomes, options.iterations, side);
        samples[side].push(...samplesMs);
        logBytes[side] += stdoutBytes;
      }
      peakRssKb = Math.max(peakRssKb, got.guard.reply.maxRssKb);
      perRound.push(ratioOf(got.guard.samplesMs, got.floor.samplesMs));
    }
    const figures = (side: Side): SideFigures => ({
      p50Ms: round(quantile(samples[side], 0.5), 3),
      p99Ms: round(quantile(samples[side], 0.99), 3),
      logBytesPerInvocation: round(logBytes[side] / (options.rounds * total), 1),
    });
    return {
      ratio: ratioOf(samples.guard, samples.floor),
      ratioInfoLogging: ratioOf(samples.guardInfoLogging, samples.floor),
      guard: figures('guard'),
      guardInfoLogging: figures('guardInfoLogging'),
      floor: figures('floor'),
      peakRssMb: round(peakRssKb / 1024, 1),
      iterations: options.iterations,
      rounds: options.rounds,
      perRound,
    };
  } finally {
    await backends.close();
  }
}

function ratioOf(side: readonly number[], floor: readonly number[]): { p50: number; p99: number } {
  return {
    p50: round(quantile(side, 0.5) / quantile(floor, 0.5)),
    p99: round(quantile(side, 0.99) / quantile(floor, 0.99)),
  };
}

function expectAllCancelled(outcomes: Counts, iterations: number, side: string): void {
  if (outcomes.cancelled !== iterations) {
    throw new Error(`warm run (${side}) did not cancel every key: ${JSON.stringify(outcomes)}`);
  }
}
