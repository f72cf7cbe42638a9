import type { Context } from 'aws-lambda';

/** Time kept back from the Lambda's remaining time to log, answer and flush metrics. */
export const DEADLINE_MARGIN_MS = 500;

/**
 * The epoch-ms deadline by which every CipherTrust Manager call of this invocation must end: the
 * Lambda's remaining time less `marginMs`, never before `now`.
 */
export function deadlineOf(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  now: number = Date.now(),
  marginMs: number = DEADLINE_MARGIN_MS,
): number {
  return now + Math.max(0, context.getRemainingTimeInMillis() - marginMs);
}
