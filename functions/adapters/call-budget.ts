/**
 * The time budget of one CipherTrust Manager call (contract: every call has one), ending whatever is
 * in flight when it runs out.
 *
 * Not an AbortSignal handed to undici: undici listens on a signal through `events.addAbortListener`
 * and takes the listener off again for every request, which was 11 us of each warm request's 0.3 ms
 * (BENCHMARKS.md "Misses"). The request in flight registers its own abort here instead
 * (`cm-http.ts`); an AWS SDK call (the secret read, a publish, a ledger call) takes the budget itself as
 * its abort signal (below).
 *
 * Not a timer per call either: a `setTimeout` and its `clearTimeout` were another 5 us of each call.
 * The budgets of a container share one timer, armed for the earliest end among them. Calls of the same
 * length started one after another end in the order they started, so a warm container arms it again
 * only when it fires, about once per budget length.
 */

const running = new Set<CallBudget>();
let armed: { readonly timer: NodeJS.Timeout; readonly at: number } | undefined;

/** Makes sure the shared timer fires no later than `at` (ms on the `performance.now()` clock). */
function armFor(at: number): void {
  if (armed !== undefined && armed.at <= at) return;
  if (armed !== undefined) clearTimeout(armed.timer);
  const timer = setTimeout(expireDue, Math.max(0, Math.ceil(at - performance.now())));
  // Like a request's own timeout, it must not keep a process alive that has nothing else to do.
  timer.unref();
  armed = { timer, at };
}

/** Ends every budget that has run out, then arms the timer for the earliest one left. */
function expireDue(): void {
  armed = undefined;
  const now = performance.now();
  let next = Number.POSITIVE_INFINITY;
  for (const budget of running) {
    if (budget.end <= now) budget.expire();
    else next = Math.min(next, budget.end);
  }
  if (next !== Number.POSITIVE_INFINITY) armFor(next);
}

/**
 * A CallBudget is also the abort signal of an AWS SDK call (`client.send(command, { abortSignal: budget })`):
 * the SDK accepts a signal that has only `aborted` and `onabort` (`DeprecatedAbortSignal` in
 * `@smithy/types`) and then sets `onabort` instead of calling `addEventListener`. A real AbortSignal cost
 * each SNS publish 18 us (an AbortController, and an EventTarget listener added and removed by the retry
 * strategy and by the HTTP handler: BENCHMARKS.md). The SDK's waits are sequential, so the handler it set
 * last is the one waiting now; the SDK builds its AbortError from `reason`.
 */
export class CallBudget {
  /** When it runs out, on the `performance.now()` clock. */
  readonly end: number;
  /** Set by the AWS SDK while this budget is its abort signal; called once when the budget runs out. */
  onabort: (() => void) | null = null;
  #reason: Error | undefined;
  #inFlight: ((reason: Error) => void) | undefined;

  /** Starts the budget: it runs out `ms` from now (at once when `ms` is not positive). */
  constructor(ms: number) {
    this.end = performance.now() + Math.max(0, ms);
    running.add(this);
    armFor(this.end);
  }

  /** True once the budget has run out. */
  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** Why it ended: a DOMException named `TimeoutError`, as `AbortSignal.timeout` gives; undefined before. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /**
   * Registers the abort of the request now in flight (one at a time: a call's attempts follow each
   * other); `undefined` takes it off when the request is over. A budget already spent aborts at once.
   */
  watch(abort: ((reason: Error) => void) | undefined): void {
    this.#inFlight = abort;
    if (abort !== undefined && this.#reason !== undefined) abort(this.#reason);
  }

  /** The call is over: its budget no longer ends anything. */
  done(): void {
    running.delete(this);
    this.#inFlight = undefined;
  }

  /** Runs the budget out now (the shared timer's job). */
  expire(): void {
    if (this.#reason !== undefined || !running.delete(this)) return;
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    this.#reason = reason;
    const abort = this.#inFlight;
    this.#inFlight = undefined;
    abort?.(reason);
    const sdkAbort = this.onabort;
    this.onabort = null;
    sdkAbort?.();
  }
}
