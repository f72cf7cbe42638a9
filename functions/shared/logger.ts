import { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { SERVICE_NAME } from './telemetry.ts';

/** The one logger of every function: structured JSON, service name fixed by the contract. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * Middy middleware that puts the invocation's request id (`function_request_id`, as Powertools names
 * it) on every line of the invocation and nothing else of the Lambda context: the function's name, ARN,
 * memory and cold start repeat on every line under `injectLambdaContext` (about 300 of a 740-byte API
 * line) while the log group and Lambda's own REPORT line already say them. For the API, whose one INFO
 * line per call is what production pays for (BENCHMARKS.md, `warmOverheadRatioInfo`).
 *
 * The key is not reset after the invocation: the next invocation's id replaces it before that
 * invocation logs anything, and the function logs nothing between invocations, so a reset only cost a
 * Powertools call per request (it reads the environment: 10 us of the warm path, BENCHMARKS.md "Misses").
 * It is the only temporary key the functions set.
 */
export function injectRequestId<E, R>(target: Logger): MiddlewareObj<E, R, Error, Context> {
  return {
    name: 'injectRequestId',
    before: (request) => {
      target.appendKeys({ function_request_id: request.context.awsRequestId });
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
