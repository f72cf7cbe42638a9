import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { containerCckmClient } from '../../functions/adapters/container-cckm-client.ts';
import { cancelKey } from '../../functions/domain/cancel-key.ts';
import { parseCancelRequest } from '../../functions/domain/cancel-request.ts';
import { connection, reach, requireConfig } from '../../functions/shared/config.ts';
import { deadlineOf } from '../../functions/shared/deadline.ts';
import { jsonResponse } from '../../functions/shared/http.ts';
import { INFO_LEVEL, logger, printsAt } from '../../functions/shared/logger.ts';

/**
 * Attribution only (bench/attribution/run.ts), never deployed: the API handler of
 * functions/cancel-deletion.ts with layers taken away, chosen by `ATTR_LAYER` at load:
 * - `direct`: no middy; the request id (`beginInvocation`) and the INFO line (handed over only when the logger
 *   prints INFO) done by hand, as the handler and its middleware do on the success path;
 * - `nolog`: `direct` without any Logger call;
 * - `adapter`: only the CCKM client's two calls (getKey, cancelDeletion) with the deadline: no request
 *   parsing, scope, domain or response building;
 * - `bareline`: `direct`, the INFO line written as Powertools writes it (same fields and order) with one
 *   `JSON.stringify` and one `process.stdout.write`: what the line costs without Powertools' per-line work.
 */

const layer = process.env.ATTR_LAYER ?? 'direct';
const cckm = containerCckmClient(connection, logger);

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  if (layer === 'adapter') {
    const options = { deadline: deadlineOf(context, Date.now()) };
    const client = cckm();
    const id = event.pathParameters?.id ?? '';
    const before = await client.getKey(id, options);
    const result = await client.cancelDeletion(id, options);
    return {
      statusCode: 200,
      body: JSON.stringify({ id, arn: before.arn, outcome: result.outcome }),
    };
  }
  const log = layer === 'direct' || layer === 'bareline';
  if (log) logger.beginInvocation(context, false);
  const command = parseCancelRequest(event);
  const scope = requireConfig(reach).scope;
  const result = await cancelKey(cckm(), command, { deadline: deadlineOf(context, Date.now()) }, scope);
  if (log && printsAt(logger, INFO_LEVEL)) {
    // The handler's line, built only when it is printed.
    const fields = {
      route: event.resource,
      cckmId: result.id,
      arn: result.arn,
      outcome: result.outcome,
      enableRequested: command.enable,
      keyState: result.keyState,
    };
    if (layer === 'direct') logger.info('cancel-deletion', fields);
    else {
      // Powertools' keys first, in its order, then the line's own.
      const line = {
        level: 'INFO',
        message: 'cancel-deletion',
        timestamp: new Date().toISOString(),
        service: 'cckm-deletion-guard',
        sampling_rate: 0,
        function_request_id: context.awsRequestId,
        ...fields,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
  return jsonResponse(200, result);
}
