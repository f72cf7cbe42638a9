import { TimeoutError } from '../shared/errors.ts';
import { CallBudget } from './call-budget.ts';

/**
 * Retry policy for CipherTrust Manager calls: pure, with time, sleep and randomness injected so
 * tests can drive it without real clocks.
 */

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Backoff ceiling of the first retry, in ms; doubles per retry up to `capMs`. */
  readonly baseMs: number;
  readonly capMs: number;
}

/** Six attempts, 100 ms doubling to 2 s: about 4 s of waiting at most, inside the default 8 s budget. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 6, baseMs: 100, capMs: 2000 });

/** Statuses that mean "try again": throttling and a CM node restarting behind the front end. */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Socket-level failures worth another attempt; TLS verification failures are deliberately absent. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** True for an HTTP status that is retried (429, 502, 503, 504); never 500 or another 4xx. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** The `code` of an error or of its cause, as Node and undici set it. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** True for a network failure (reset, refused, DNS, undici socket timeouts) that is retried. */
export function isRetryableNetworkError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * Parses a `Retry-After` header (delay seconds or an HTTP-date) into milliseconds from `nowMs`;
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  nowMs: number,
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The TimeoutError of a call (`label`) whose time budget ran out. */
export function outOfBudget(label: string, options?: { cause?: unknown }): TimeoutError {
  return new TimeoutError(`CipherTrust Manager call ${label} ran out of its time budget`, options);
}

/** Full-jitter exponential backoff before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** What one attempt produced: a value, or a retryable failure (non-retryable failures are thrown). */
export type AttemptOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: Error; readonly retryAfterMs?: number };

export interface RetryOptions {
  /** Epoch ms by which the whole call, retries included, must be done. */
  readonly budgetEnd: number;
  /**
   * The call's budget, shared by every attempt (one timer per call, stopped by its owner when the call
   * is done); absent: a budget per attempt for the time that remains.
   */
  readonly budget?: CallBudget;
  /** Names the call in a TimeoutError, e.g. `GET /api/v1/cckm/aws/keys/{id}`. */
  readonly label: string;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly policy?: RetryPolicy;
  readonly onRetry?: (info: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: Error;
  }) => void;
}

/**
 * Runs `attempt` until it succeeds, throws, or the attempts or the time budget run out; each attempt
 * gets the budget that remains (`options.budget` when given), and an attempt cut off by it is a
 * TimeoutError.
 */
export async function retryWithBudget<T>(
  attempt: (budget: CallBudget, attemptNumber: number) => Promise<AttemptOutcome<T>>,
  options: RetryOptions,
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  for (let n = 1; ; n++) {
    const remaining = options.budgetEnd - options.now();
    if (remaining <= 0) throw outOfBudget(options.label);
    const budget = options.budget ?? new CallBudget(remaining);
    let outcome: AttemptOutcome<T>;
    try {
      outcome = await attempt(budget, n);
    } catch (error) {
      if (budget.aborted) throw outOfBudget(options.label, { cause: error });
      throw error;
    } finally {
      if (budget !== options.budget) budget.done();
    }
    if (outcome.ok) return outcome.value;
    if (budget.aborted) throw outOfBudget(options.label, { cause: outcome.error });
    if (n >= policy.maxAttempts) throw outcome.error;
    const delayMs = outcome.retryAfterMs ?? backoffDelay(n, policy, options.random);
    // A wait that would end past the budget cannot lead to a useful answer: report what CM said.
    if (options.now() + delayMs >= options.budgetEnd) throw outcome.error;
    options.onRetry?.({ attempt: n, delayMs, error: outcome.error });
    await options.sleep(delayMs);
  }
}
