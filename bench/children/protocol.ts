/**
 * Messages between the benchmark (parent) and a child process, over Node's IPC channel: one request
 * in, one reply out. Payloads go over IPC rather than argv or env so the function's environment holds
 * only what a deployed function would see.
 */

/** What a child is asked to measure. `file` is the absolute path of the module to import. */
export type ChildRequest =
  | { readonly mode: 'import'; readonly file: string }
  | { readonly mode: 'cold-invoke'; readonly file: string; readonly id: string }
  | {
      readonly mode: 'warm';
      readonly file: string;
      readonly warmupIds: readonly string[];
      readonly ids: readonly string[];
    }
  | {
      /** Remediation events one after another in one process; the first `warmup` untimed. */
      readonly mode: 'remediation-warm';
      readonly file: string;
      readonly warmupEvents: readonly unknown[];
      readonly events: readonly unknown[];
    }
  | {
      readonly mode: 'burst';
      readonly file: string;
      readonly events: readonly unknown[];
      readonly concurrency: number;
    }
  | { readonly mode: 'sweep'; readonly file: string; readonly event: unknown };

/** Fields every reply carries. */
export interface ChildBase {
  /** `process.version` of the child, to prove it ran on the Node the functions deploy on. */
  readonly node: string;
  /** Peak resident set size of the child, in KiB (`process.resourceUsage().maxRSS`). */
  readonly maxRssKb: number;
}

/** Outcome names seen, with counts (API outcomes, remediation outcomes, or `status-<code>`). */
export type Counts = Record<string, number>;

export type ChildReply =
  | (ChildBase & { readonly mode: 'import'; readonly ms: number })
  | (ChildBase & {
      readonly mode: 'cold-invoke';
      /** From before the import to the handler's answer. */
      readonly ms: number;
      readonly importMs: number;
      readonly outcomes: Counts;
    })
  | (ChildBase & { readonly mode: 'warm'; readonly samplesMs: readonly number[]; readonly outcomes: Counts })
  | (ChildBase & {
      readonly mode: 'remediation-warm';
      readonly samplesMs: readonly number[];
      readonly outcomes: Counts;
      readonly errors: number;
    })
  | (ChildBase & {
      readonly mode: 'burst';
      readonly wallMs: number;
      readonly outcomes: Counts;
      /** Invocations that threw (the handler throws when any key ended `failed`). */
      readonly errors: number;
    })
  | (ChildBase & {
      readonly mode: 'sweep';
      readonly wallMs: number;
      readonly outcomes: Counts;
      readonly errors: number;
    })
  | (ChildBase & { readonly mode: 'error'; readonly message: string });
