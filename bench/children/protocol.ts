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
  | { readonly mode: 'sweep'; readonly file: string; readonly event: unknown }
  | {
      /**
       * Lockstep: import `file`, answer `ready`, then one `SessionInvoke` at a time (each answered by a
       * `SessionSample`) until a `SessionEnd`, answered by the `session` reply with the totals.
       */
      readonly mode: 'session';
      readonly file: string;
      /** `api`: items are CCKM key ids (POST /keys/{id}/cancel-deletion); `remediation`: CloudTrail events. */
      readonly kind: SessionKind;
    };

/** What a session child invokes: the API handler or the remediation handler. */
export type SessionKind = 'api' | 'remediation';

/** One invocation of a session child. */
export interface SessionInvoke {
  readonly type: 'invoke';
  /** A CCKM key id (`api`) or a CloudTrail event (`remediation`). */
  readonly item: unknown;
  /** Untimed invocations are warm-up: counted as `warmup:<outcome>` (API) or not at all (remediation). */
  readonly timed: boolean;
}

/** Ends a session: the child replies with its totals and exits. */
export interface SessionEnd {
  readonly type: 'end';
}

/** What a session child sends while it runs, before its final `ChildReply`. */
export type SessionMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'sample';
      /** The handler call alone (event and context built before t0, the outcome counted after). */
      readonly ms: number;
      /** `cancelled`, `status-<code>`, the remediation summary's names, or `error:<name>`. */
      readonly outcome: string;
    };

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
  | (ChildBase & {
      /** A session's totals over every invocation, warm-up included as in the modes above. */
      readonly mode: 'session';
      readonly outcomes: Counts;
      readonly errors: number;
      readonly invocations: number;
    })
  | (ChildBase & { readonly mode: 'error'; readonly message: string });
