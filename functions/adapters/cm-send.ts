import type { Logger } from '@aws-lambda-powertools/logger';
import type { Dispatcher } from 'undici';
import { AppError } from '../shared/errors.ts';
import { DEBUG_LEVEL, printsAt } from '../shared/logger.ts';
import type { CallBudget } from './call-budget.ts';
import { createFailureDescriber } from './cm-failure-detail.ts';
import { type CmResponse, networkErrorOf, sendOnce, upstreamErrorOf } from './cm-http.ts';
import type { PreparedCmRequest } from './cm-path.ts';
import type { CckmSecret } from './credentials.ts';
import {
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  retryWithBudget,
} from './retry.ts';

/**
 * Sending one request to CipherTrust Manager with retries on transient failures, marking an answer
 * `ambiguous` when an earlier attempt may have reached CM. Authentication is the session's job.
 */

export interface SenderSettings {
  readonly origin: string;
  readonly log: Pick<Logger, 'debug' | 'warn'>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly retryPolicy: RetryPolicy;
  /** The Agent for an attempt, chosen per attempt (a ca_cert may rotate during a backoff). */
  readonly dispatcherFor: (secret: CckmSecret) => Dispatcher;
}

export interface CmSender {
  /** Sends with retries on 429/502/503/504 and network errors; other answers are returned as they are. */
  send(
    secret: CckmSecret,
    request: PreparedCmRequest,
    bearer: string | undefined,
    label: string,
    end: number,
    budget?: CallBudget,
  ): Promise<CmResponse>;
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  /** Retries after a 429/502/503/504 or a network error. */
  readonly retries: number;
}

/** Creates the sender; its failed answers carry their scrubbed detail (`cm-failure-detail.ts`). */
export function createCmSender(settings: SenderSettings): CmSender {
  const { origin, log, now, sleep, random, retryPolicy, dispatcherFor } = settings;
  const withDetail = createFailureDescriber();
  let requests = 0;
  let retries = 0;

  const send: CmSender['send'] = (secret, request, bearer, label, end, callBudget) => {
    // A 429 is a refusal before any work; a 5xx or a dropped connection may come after CM acted.
    let ambiguous = false;
    const answer = (response: CmResponse): CmResponse => (ambiguous ? { ...response, ambiguous } : response);
    return retryWithBudget(
      async (budget, attempt) => {
        requests++;
        // Chosen per attempt: a ca_cert rotated during a backoff (read by another call) closes the
        // Agent this call started with, so the next attempt goes through the newest one.
        const dispatcher = dispatcherFor(secret);
        const started = performance.now();
        let response: CmResponse;
        try {
          response = withDetail(
            await sendOnce(dispatcher, origin, request, bearer, budget),
            request,
            secret,
            bearer,
          );
        } catch (error) {
          if (error instanceof AppError || budget.aborted) throw error;
          const wrapped = networkErrorOf(error, label);
          if (printsAt(log, DEBUG_LEVEL)) {
            log.debug('CipherTrust Manager request failed', { call: label, attempt, error: wrapped.message });
          }
          if (isRetryableNetworkError(error)) {
            ambiguous = true;
            return { ok: false, error: wrapped };
          }
          throw wrapped;
        }
        if (printsAt(log, DEBUG_LEVEL)) {
          log.debug('CipherTrust Manager request', {
            call: label,
            status: response.status,
            attempt,
            durationMs: Math.round(performance.now() - started),
          });
        }
        if (!isRetryableStatus(response.status)) return { ok: true, value: answer(response) };
        if (response.status !== 429) ambiguous = true;
        return {
          ok: false,
          error: upstreamErrorOf(response, label),
          retryAfterMs: parseRetryAfter(response.headers['retry-after'], now()),
        };
      },
      {
        budgetEnd: end,
        budget: callBudget,
        label,
        now,
        sleep,
        random,
        policy: retryPolicy,
        onRetry: ({ attempt, delayMs, error }) => {
          retries++;
          log.warn('Retrying CipherTrust Manager call', {
            call: label,
            attempt,
            delayMs,
            reason: error.message,
          });
        },
      },
    );
  };

  return {
    send,
    get requests() {
      return requests;
    },
    get retries() {
      return retries;
    },
  };
}
