import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { containerCckmClient } from './adapters/container-cckm-client.ts';
import { cancelKey } from './domain/cancel-key.ts';
import { parseCancelRequest } from './domain/cancel-request.ts';
import type { CckmApi } from './domain/ports.ts';
import type { DeploymentScope } from './domain/scope.ts';
import { connection, reach, requireConfig } from './shared/config.ts';
import { deadlineOf } from './shared/deadline.ts';
import { jsonResponse } from './shared/http.ts';
import { httpErrors } from './shared/http-errors.ts';
import { INFO_LEVEL, invocationContext, logger, printsAt } from './shared/logger.ts';

/** What the API handler needs from the outside world; tests pass fakes. */
export interface CancelDeletionDeps {
  /** Returns the CipherTrust Manager client, or throws ConfigError when the function is misconfigured. */
  readonly cckm: () => CckmApi;
  /** Returns the accounts and Regions this deployment protects (default: all), or throws ConfigError. */
  readonly scope?: () => DeploymentScope;
  readonly logger: typeof logger;
  /** The clock the time budget starts from (default `Date.now`). */
  readonly now?: () => number;
}

/** Builds the API Gateway handler for both cancel-deletion routes (contract section 3). */
export function createCancelDeletionHandler(deps: CancelDeletionDeps) {
  // No middy early timeout (a timer, a promise and a race per call): the handler's own deadline
  // (`deadlineOf`, 500 ms before Lambda's) answers 504 long before middy's 5 ms would fire.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .use(invocationContext(deps.logger, false))
    .use(httpErrors(deps.logger))
    .handler(async (event: APIGatewayProxyEvent, context: Context) => {
      // Validation first: bad input never reaches CipherTrust Manager, even when misconfigured.
      const command = parseCancelRequest(event);
      const now = deps.now ?? Date.now;
      const scope = deps.scope?.();
      const result = await cancelKey(deps.cckm(), command, { deadline: deadlineOf(context, now()) }, scope);
      if (printsAt(deps.logger, INFO_LEVEL))
        deps.logger.info('cancel-deletion', {
          route: event.resource,
          cckmId: result.id,
          arn: result.arn,
          outcome: result.outcome,
          enableRequested: command.enable,
          keyState: result.keyState,
        });
      return jsonResponse(200, result);
    });
}

const cckmClient = containerCckmClient(connection, logger);

/** Lambda entry point. */
export const handler = createCancelDeletionHandler({
  cckm: cckmClient,
  scope: () => requireConfig(reach).scope,
  logger,
});
