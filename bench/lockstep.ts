import { type ChildSession, type SessionSample, startSession } from './child.ts';
import type { ChildReply, SessionKind } from './children/protocol.ts';

/**
 * Lockstep: every side of a comparison (the floor, the guard, ...) runs in its own live child process
 * at once, and the parent asks them for one invocation at a time, the order changing every step, so
 * whatever the machine does at any moment (other sessions' load, a busy second) falls on every side
 * alike instead of on whichever process happened to run then. Each child times its own handler call.
 */

/** One side of a lockstep round: the module it runs, its environment, and its own items. */
export interface LockstepSide<S extends string> {
  readonly side: S;
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
  /** Key ids (`api`) or CloudTrail events (`remediation`), warm-up items first; no other side uses them. */
  readonly items: readonly unknown[];
}

/** What one side of a round gave. */
export interface LockstepResult {
  /** Times of the timed invocations, ms, in order. */
  readonly samplesMs: number[];
  readonly reply: Extract<ChildReply, { mode: 'session' }>;
  /** stdout bytes of the whole process (warm-up included), as `runChild` counts them. */
  readonly stdoutBytes: number;
}

/** Every ordering of `items` (n! of them; the bench has 2 or 3 sides). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((first, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]),
  );
}

/** Options of `lockstepRound`. */
export interface LockstepOptions<S extends string> {
  readonly harness: string;
  readonly kind: SessionKind;
  readonly sides: readonly LockstepSide<S>[];
  /** The first `warmup` items of every side are invoked untimed (in lockstep too). */
  readonly warmup: number;
  /** Kills a child that outlives this, from its start to its exit. */
  readonly timeoutMs: number;
  /** Wraps each invocation (one at a time): the remediation measure reads the backends' counters around it. */
  readonly around?: (side: S, invoke: () => Promise<SessionSample>) => Promise<SessionSample>;
}

/**
 * One round: starts one child per side (all alive at once, each its own process and heap), then for
 * step k invokes every side once with its k-th item, in the k-th of the sides' orderings (cycling
 * through all of them, so each side runs first, last and after each other side equally often), and
 * ends every child. Any failure kills the round's children and rejects.
 */
export async function lockstepRound<S extends string>(
  options: LockstepOptions<S>,
): Promise<Record<S, LockstepResult>> {
  const { sides } = options;
  const steps = Math.min(...sides.map((s) => s.items.length));
  const started = await Promise.allSettled(
    sides.map((s) => startSession(options.harness, s.file, options.kind, s.env, options.timeoutMs)),
  );
  const sessions = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const killAll = () => {
    for (const session of sessions) session?.kill();
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    killAll();
    throw failed.reason;
  }
  const live = sessions as ChildSession[];
  try {
    const orders = permutations(sides.map((_, i) => i));
    const samples: number[][] = sides.map(() => []);
    const around = options.around ?? ((_side, invoke) => invoke());
    for (let step = 0; step < steps; step++) {
      const timed = step >= options.warmup;
      for (const i of orders[step % orders.length] as number[]) {
        const side = sides[i] as LockstepSide<S>;
        const session = live[i] as ChildSession;
        const { ms } = await around(side.side, () => session.invoke(side.items[step], timed));
        if (timed) samples[i]?.push(ms);
      }
    }
    const ended = await Promise.all(live.map((session) => session.end()));
    return Object.fromEntries(
      sides.map((s, i) => {
        const run = ended[i] as (typeof ended)[number];
        return [s.side, { samplesMs: samples[i] ?? [], reply: run.reply, stdoutBytes: run.stdoutBytes }];
      }),
    ) as Record<S, LockstepResult>;
  } catch (error) {
    killAll();
    throw error;
  }
}
