import type { Context } from 'aws-lambda';

/*
 * Plain erasable TypeScript: `function-worker.ts` imports it under native Node, without a loader.
 */

/** What varies between the Lambda contexts the local host and the tests hand to a handler. */
export interface LambdaContextOptions {
  readonly functionName: string;
  readonly awsRequestId: string;
  /** Epoch ms at which the invocation times out; `getRemainingTimeInMillis` counts down to it. */
  readonly deadline: number;
  readonly region?: string;
  readonly account?: string;
  readonly memoryLimitInMB?: string;
  readonly logStreamName?: string;
}

/** Builds the Lambda `Context` of one invocation, as the Lambda runtime would pass it. */
export function lambdaContext(options: LambdaContextOptions): Context {
  const { functionName, awsRequestId, deadline } = options;
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: options.memoryLimitInMB ?? '512',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: options.logStreamName ?? `local/[$LATEST]${awsRequestId.slice(0, 8)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
