/**
 * The time budget of one CipherTrust Manager call (contract: every call has one), as one timer that
 * ends whatever is in flight when it runs out.
 *
 * Not an AbortSignal handed to undici: undici listens on a signal through `events.addAbortListener`
 * and takes the listener off again for every request, which was 11 us of each warm request's 0.3 ms
 * (BENCHMARKS.md "Misses"). The request in flight registers its own abort here instead
 * (`cm-http.ts`), and an AbortSignal is made only for the rare caller that needs one (the SDK's secret
 * read), on first use.
 */
export class CallBudget {
  #expired = false;
  #reason: Error | undefined;
  #inFlight: ((reason: Error) => void) | undefined;
  #controller: AbortController | undefined;
  readonly #timer: NodeJS.Timeout;

  /** Starts the budget: it runs out `ms` from now (at once when `ms` is not positive). */
  constructor(ms: number) {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, ms));
    this.#timer.unref();
  }

  /** True once the budget has run out. */
  get aborted(): boolean {
    return this.#expired;
  }

  /** Why it ended: a DOMException named `TimeoutError`, as `AbortSignal.timeout` gives; undefined before. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** An AbortSignal that aborts when the budget runs out, made on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#expired) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Registers the abort of the request now in flight (one at a time: a call's attempts follow each
   * other); `undefined` takes it off when the request is over. A budget already spent aborts at once.
   */
  watch(abort: ((reason: Error) => void) | undefined): void {
    this.#inFlight = abort;
    if (abort !== undefined && this.#reason !== undefined) abort(this.#reason);
  }

  /** Stops the timer: the call is over, its budget no longer matters. */
  done(): void {
    clearTimeout(this.#timer);
    this.#inFlight = undefined;
  }

  #expire(): void {
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    this.#expired = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const abort = this.#inFlight;
    this.#inFlight = undefined;
    abort?.(reason);
  }
}
