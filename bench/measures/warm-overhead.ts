import { generatePendingKeys, type SeedUser, type SimulatorTls } from '../../local/simulator/index.ts';
import { seededIds, startBackends } from '../backends.ts';
import { runChild } from '../child.ts';
import type { Counts } from '../children/protocol.ts';
import { quantile, round } from '../stats.ts';

/** Inputs of the warm-overhead measure. */
export interface WarmOptions {
  readonly harness: string;
  readonly guardFile: string;
  readonly floorFile: string;
  /** Timed invocations per process (2,000). */
  readonly iterations: number;
  /** Untimed invocations first: the cold start, the token, JIT warm-up. */
  readonly warmup: number;
  /** Processes per side, alternating sides; samples are pooled. */
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
  /** Guard (WARN) ÷ floor of each round alone: how far one pair of processes moves the ratio. */
  readonly perRound: readonly { readonly p50: number; readonly p99: number }[];
}

type Side = 'floor' | 'guard' | 'guardInfoLogging';

/**
 * Warm API invocations in one process against the simulator, each on a different key pending
 * deletion (so every one is a real cancel: GET key + POST cancel-deletion), ÷ the same two requests
 * made with bare undici in another process. Keys are put back to PendingDeletion by the simulator's
 * in-process API between processes, never inside a timed region.
 */
export async function warmOverhead(options: WarmOptions): Promise<WarmFigures> {
  const total = options.warmup + options.iterations;
  const backends = await startBackends({
    fn: 'cancel-deletion',
    keys: generatePendingKeys(total, { prefix: 'warm' }),
    tls: options.tls,
    users: options.users,
  });
  const infoEnv = { ...backends.env, POWERTOOLS_LOG_LEVEL: 'INFO' };
  try {
    const ids = seededIds(backends);
    const warmupIds = ids.slice(0, options.warmup);
    const timedIds = ids.slice(options.warmup);
    const samples: Record<Side, number[]> = { floor: [], guard: [], guardInfoLogging: [] };
    const perRound: { p50: number; p99: number }[] = [];
    const logBytes: Record<Side, number> = { floor: 0, guard: 0, guardInfoLogging: 0 };
    let peakRssKb = 0;
    const sides: { side: Side; file: string; env: Readonly<Record<string, string>> }[] = [
      { side: 'floor', file: options.floorFile, env: backends.env },
      { side: 'guard', file: options.guardFile, env: backends.env },
      { side: 'guardInfoLogging', file: options.guardFile, env: infoEnv },
    ];
    for (let pass = 0; pass < options.rounds; pass++) {
      const order = pass % 2 === 0 ? sides : [...sides].reverse();
      const roundSamples: Partial<Record<Side, readonly number[]>> = {};
      for (const { side, file, env } of order) {
        backends.repend(ids);
        const { reply, stdoutBytes } = await runChild(
          options.harness,
          { mode: 'warm', file, warmupIds, ids: timedIds },
          env,
          'warm',
          600_000,
        );
        expectAllCancelled(reply.outcomes, options.iterations, side);
        samples[side].push(...reply.samplesMs);
        roundSamples[side] = reply.samplesMs;
        logBytes[side] += stdoutBytes;
        if (side === 'guard') peakRssKb = Math.max(peakRssKb, reply.maxRssKb);
      }
      const g = roundSamples.guard ?? [];
      const f = roundSamples.floor ?? [];
      perRound.push({
        p50: round(quantile(g, 0.5) / quantile(f, 0.5)),
        p99: round(quantile(g, 0.99) / quantile(f, 0.99)),
      });
    }
    const figures = (side: Side): SideFigures => ({
      p50Ms: round(quantile(samples[side], 0.5), 3),
      p99Ms: round(quantile(samples[side], 0.99), 3),
      logBytesPerInvocation: round(logBytes[side] / (options.rounds * total), 1),
    });
    const floor = figures('floor');
    const guard = figures('guard');
    const info = figures('guardInfoLogging');
    const ratioOf = (side: Side) => ({
      p50: round(quantile(samples[side], 0.5) / quantile(samples.floor, 0.5)),
      p99: round(quantile(samples[side], 0.99) / quantile(samples.floor, 0.99)),
    });
    return {
      ratio: ratioOf('guard'),
      ratioInfoLogging: ratioOf('guardInfoLogging'),
      guard,
      guardInfoLogging: info,
      floor,
      peakRssMb: round(peakRssKb / 1024, 1),
      iterations: options.iterations,
      rounds: options.rounds,
      perRound,
    };
  } finally {
    await backends.close();
  }
}

function expectAllCancelled(outcomes: Counts, iterations: number, side: string): void {
  if (outcomes.cancelled !== iterations) {
    throw new Error(`warm run (${side}) did not cancel every key: ${JSON.stringify(outcomes)}`);
  }
}
