import { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { loggerSwitches } from './config.ts';
import { SERVICE_NAME } from './telemetry.ts';

/**
 * The Powertools Logger, handed each invocation's Lambda context only when a line is about to be printed.
 * At WARN most invocations print nothing, and putting the context on the logger costs Powertools calls
 * that read the environment (`appendKeys`, or `addContext` with `refreshSampleRateCalculation`,
 * `clearBuffer` and `resetKeys` around it under `injectLambdaContext`): 10-40 us of a warm invocation,
 * BENCHMARKS.md "Misses". `createAndPopulateLogItem` is Powertools' protected hook for a line it is
 * going to print (or buffer), whoever logs it: the handler, the CM client or the ledger.
 */
export class GuardLogger extends Logger {
  #context: Context | undefined;
  #whole = false;
  #first = true;
  /**
   * Invocations may run at once in this process (Powertools' own switch, `AWS_LAMBDA_MAX_CONCURRENCY`,
   * for Lambda Managed Instances): Powertools then keeps the context per invocation, and the pending one
   * here would be the latest invocation's, so each invocation's context is put on at once.
   */
  readonly #concurrent = loggerSwitches().concurrent;

  /**
   * Starts an invocation: its lines carry `context` whole (`addContext`) or only its request id. The
   * first invocation's is put on at once, so Powertools' `cold_start` is true exactly for it, as under
   * `injectLambdaContext`.
   */
  beginInvocation(context: Context, whole: boolean): void {
    this.#context = context;
    this.#whole = whole;
    if (this.#first || this.#concurrent) {
      this.#first = false;
      this.#apply();
    }
  }

  // Powertools' constructor may print (a debug sample rate's draw) before this class's fields exist:
  // `#first in this` tells, and there is no invocation yet to put on the line.
  protected override createAndPopulateLogItem(
    ...args: Parameters<Logger['createAndPopulateLogItem']>
  ): ReturnType<Logger['createAndPopulateLogItem']> {
    if (#first in this) this.#apply();
    return super.createAndPopulateLogItem(...args);
  }

  #apply(): void {
    const context = this.#context;
    if (context === undefined) return;
    this.#context = undefined;
    if (this.#whole) this.addContext(context);
    else this.appendKeys({ function_request_id: context.awsRequestId });
  }
}

/** The one logger of every function: structured JSON, service name fixed by the contract. */
export const logger = new GuardLogger({ serviceName: SERVICE_NAME });

/**
 * Middy middleware that puts the invocation's Lambda context on the lines of the invocation:
 * - `whole` false (the API): the request id (`function_request_id`, as Powertools names it) and nothing
 *   else: the function's name, ARN, memory and cold start repeat on every line under
 *   `injectLambdaContext` (about 300 of a 740-byte API line) while the log group and Lambda's own REPORT
 *   line already say them;
 * - `whole` true (the remediation): what Powertools' `addContext` puts on, as `injectLambdaContext`
 *   does, and the invocation event when `POWERTOOLS_LOGGER_LOG_EVENT` asks for it. A debug sample rate
 *   (`POWERTOOLS_LOGGER_SAMPLE_RATE`) is drawn again at each invocation, as there.
 *
 * The context is put on only when a line is printed (GuardLogger). Keys are not reset after the
 * invocation: the next invocation's context replaces them before that invocation prints anything, the
 * functions log nothing between invocations, and they set no other temporary key.
 */
export function invocationContext<E, R>(
  target: GuardLogger,
  whole: boolean,
): MiddlewareObj<E, R, Error, Context> {
  // Read once, when the handler is made, as Powertools reads it.
  const { sampled } = loggerSwitches();
  return {
    before: (request) => {
      // The context first, so the lines below already carry this invocation's.
      target.beginInvocation(request.context, whole);
      if (whole) {
        if (sampled) target.refreshSampleRateCalculation();
        target.logEventIfEnabled(request.event);
      }
    },
  };
}

/** Powertools' numeric thresholds, as its `Logger.level` reports them. */
export const DEBUG_LEVEL = 8;
export const INFO_LEVEL = 12;

/**
 * True when `log` would print a line of `level` now (its level, sampling included, is read per call). A
 * suppressed Powertools call still costs microseconds (it reads the environment each time, BENCHMARKS.md
 * "Misses"), and its fields are built before it decides: per-event lines are handed over only when they
 * would be printed. A logger without a numeric `level` (a test's fake) gets every line.
 */
export function printsAt(log: object, level: number): boolean {
  const current = (log as { readonly level?: unknown }).level;
  return typeof current !== 'number' || current <= level;
}
