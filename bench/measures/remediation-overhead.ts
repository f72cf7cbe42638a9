import { generatePendingKeys } from '../../local/simulator/index.ts';
import { seededIds, startBackends } from '../backends.ts';
import type { Counts } from '../children/protocol.ts';
import { scheduleKeyDeletionEvent } from '../events.ts';
import { type LockstepSide, lockstepRound } from '../lockstep.ts';
import { quantile, round } from '../stats.ts';
import type { WarmOptions } from './warm-overhead.ts';

/**
 * Inputs of the remediation-overhead measure: those of the warm measure, with the remediation bundle as
 * `guardFile`, bench/children/floor-remediation.ts (bundled) as `floorFile`, and events as iterations.
 */
export type RemediationOptions = WarmOptions;

/** One side's latency quantiles and what it spent per event. */
export interface RemediationSide {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CipherTrust Manager requests per event (token grant of the warm-up excluded: 2, list + cancel). */
  readonly cckmRequestsPerEvent: number;
  /** SNS messages per event (1: the contract's one message per decided key). */
  readonly publishesPerEvent: number;
}

/** Remediation-overhead figures. */
export interface RemediationFigures {
  /** Guard ÷ floor at p50 and p99. */
  readonly ratio: { readonly p50: number; readonly p99: number };
  readonly guard: RemediationSide;
  readonly floor: RemediationSide;
  readonly iterations: number;
  readonly rounds: number;
  /** Guard ÷ floor of each round alone. */
  readonly perRound: readonly { readonly p50: number; readonly p99: number }[];
  /** Peak RSS of a guard process, MiB. */
  readonly peakRssMb: number;
}

type Side = 'floor' | 'guard';

/**
 * One CloudTrail `ScheduleKeyDeletion` event at a time through the warm remediation handler against
 * the simulator (lookup by KeyID and Region, cancel, one SNS message), ÷ the same lookup and cancel
 * with bare undici and the same publish with the bare SDK client. Each round runs one guard and one
 * floor process in lockstep (one event each per step, the order alternating); each side has its own
 * pending keys, put back between rounds, never inside a timed region. CM requests and SNS messages are
 * counted around each invocation, so each side's are its own although both share the backends.
 */
export async function remediationOverhead(options: RemediationOptions): Promise<RemediationFigures> {
  const total = options.warmup + options.iterations;
  const sideNames: readonly Side[] = ['floor', 'guard'];
  const keys = generatePendingKeys(sideNames.length * total, { prefix: 'remediation' });
  const backends = await startBackends({
    fn: 'remediate-deletion',
    keys,
    tls: options.tls,
    users: options.users,
  });
  try {
    const ids = seededIds(backends);
    const events = keys.map(scheduleKeyDeletionEvent);
    const own = (i: number) => events.slice(i * total, (i + 1) * total);
    const sides: LockstepSide<Side>[] = [
      { side: 'floor', file: options.floorFile, env: backends.env, items: own(0) },
      { side: 'guard', file: options.guardFile, env: backends.env, items: own(1) },
    ];
    const samples: Record<Side, number[]> = { floor: [], guard: [] };
    const spent: Record<Side, { requests: number; publishes: number }> = {
      floor: { requests: 0, publishes: 0 },
      guard: { requests: 0, publishes: 0 },
    };
    const perRound: { p50: number; p99: number }[] = [];
    let peakRssKb = 0;
    for (let pass = 0; pass < options.rounds; pass++) {
      backends.repend(ids);
      const got = await lockstepRound({
        harness: options.harness,
        kind: 'remediation',
        sides,
        warmup: options.warmup,
        timeoutMs: 600_000,
        // One invocation at a time: what the backends counted meanwhile is that side's (token grants aside).
        around: async (side, invoke) => {
          const requestsBefore = backends.sim.counters.requests - backends.tokenGrants();
          const publishesBefore = backends.aws.sns.messages.length;
          const sample = await invoke();
          spent[side].requests += backends.sim.counters.requests - backends.tokenGrants() - requestsBefore;
          spent[side].publishes += backends.aws.sns.messages.length - publishesBefore;
          return sample;
        },
      });
      for (const side of sideNames) {
        const { samplesMs, reply } = got[side];
        expectAllCancelled(reply.outcomes, reply.errors, options.iterations, side);
        samples[side].push(...samplesMs);
      }
      peakRssKb = Math.max(peakRssKb, got.guard.reply.maxRssKb);
      perRound.push(ratioOf(got.guard.samplesMs, got.floor.samplesMs));
    }
    const invocations = options.rounds * total;
    const figures = (side: Side): RemediationSide => ({
      p50Ms: round(quantile(samples[side], 0.5), 3),
      p99Ms: round(quantile(samples[side], 0.99), 3),
      cckmRequestsPerEvent: round(spent[side].requests / invocations, 3),
      publishesPerEvent: round(spent[side].publishes / invocations, 3),
    });
    return {
      ratio: ratioOf(samples.guard, samples.floor),
      guard: figures('guard'),
      floor: figures('floor'),
      iterations: options.iterations,
      rounds: options.rounds,
      perRound,
      peakRssMb: round(peakRssKb / 1024, 1),
    };
  } finally {
    await backends.close();
  }
}

function ratioOf(guard: readonly number[], floor: readonly number[]): { p50: number; p99: number } {
  return {
    p50: round(quantile(guard, 0.5) / quantile(floor, 0.5)),
    p99: round(quantile(guard, 0.99) / quantile(floor, 0.99)),
  };
}

function expectAllCancelled(outcomes: Counts, errors: number, iterations: number, side: string): void {
  if (outcomes.cancelled !== iterations || errors > 0) {
    throw new Error(`remediation run (${side}) did not cancel every key: ${JSON.stringify(outcomes)}`);
  }
}
