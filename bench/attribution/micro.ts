import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { httpErrors } from '../../functions/shared/http-errors.ts';
import { invocationContext, logger } from '../../functions/shared/logger.ts';
import { metrics, recordOutcomes } from '../../functions/shared/metrics.ts';
import { benchContext, cancelByIdEvent } from '../children/lambda.ts';

/**
 * Attribution only: in-process per-call cost of the decided libraries' pieces on the guard's warm path,
 * each case run `N` times per round, cases alternating over `ROUNDS` rounds; prints the median µs per
 * call of each case to stderr. Run bundled with stdout piped (as Lambda reads it):
 * `node .build/bench/attr-micro/index.mjs | wc -c` (built by `bench/attribution/run.ts --micro`).
 */

const N = Number(process.env.ATTR_N ?? 20_000);
const ROUNDS = Number(process.env.ATTR_ROUNDS ?? 8);
const context: Context = benchContext('cancel-deletion', 29_000);
const event = cancelByIdEvent('0f3ad7a4-4cb7-4b1f-9d8e-2a6c1b0e9a11');
const body = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
const apiFields = {
  route: '/keys/{id}/cancel-deletion',
  cckmId: '0f3ad7a4-4cb7-4b1f-9d8e-2a6c1b0e9a11',
  arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  outcome: 'cancelled',
  enableRequested: false,
  keyState: 'Disabled',
};
const audit = {
  outcome: 'cancelled',
  reason: 'deletion scheduled by a principal outside the allow-list',
  cckmId: '0f3ad7a4-4cb7-4b1f-9d8e-2a6c1b0e9a11',
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  aliases: ['alias/payments'],
  account: '111122223333',
  region: 'us-east-1',
  actor: 'arn:aws:iam::111122223333:user/alice',
  eventId: 'c5b4c1a6-1d0e-4f4b-9a55-0c1e9c7d2b11',
  eventTime: '2026-11-30T04:00:00Z',
  pendingWindowInDays: 7,
  deletionDate: '2026-12-07T04:00:00.000Z',
  mode: 'enforce',
  trigger: 'cloudtrail',
};

const direct = async (_e: APIGatewayProxyEvent, _c: Context): Promise<APIGatewayProxyResult> => body;
const apiMiddy = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
  .use(invocationContext(logger, false))
  .use(httpErrors(logger))
  .handler(direct);
const bareMiddy = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 }).handler(
  direct,
);
const remMiddy = middy<unknown, unknown>({ timeoutEarlyInMillis: 0 })
  .use(invocationContext(logger, true))
  .handler(async () => body);
const remPowertools = middy<unknown, unknown>({ timeoutEarlyInMillis: 0 })
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => body);

type Case = readonly [name: string, level: 'INFO' | 'WARN', run: () => unknown];
const cases: Case[] = [
  ['async direct call (baseline)', 'WARN', () => direct(event, context)],
  ['middy, no middleware', 'WARN', () => bareMiddy(event, context)],
  ['middy + invocationContext request-id + httpErrors (API)', 'WARN', () => apiMiddy(event, context)],
  ['middy + invocationContext lambda-context (remediation)', 'WARN', () => remMiddy(event, context)],
  ['middy + Powertools injectLambdaContext (before)', 'WARN', () => remPowertools(event, context)],
  [
    'appendKeys + resetKeys by hand',
    'WARN',
    () => {
      logger.appendKeys({ function_request_id: context.awsRequestId });
      logger.resetKeys();
    },
  ],
  ['logger.info at WARN (suppressed)', 'WARN', () => logger.info('cancel-deletion', apiFields)],
  ['API INFO line (logger.info, 6 fields)', 'INFO', () => logger.info('cancel-deletion', apiFields)],
  [
    'API INFO line: JSON.stringify + stdout write only',
    'INFO',
    () =>
      process.stdout.write(
        `${JSON.stringify({ level: 'INFO', message: 'cancel-deletion', timestamp: new Date().toISOString(), service: 'cckm-deletion-guard', function_request_id: context.awsRequestId, ...apiFields })}\n`,
      ),
  ],
  [
    'audit line (logger.info, 15 fields, Lambda context)',
    'INFO',
    () => {
      logger.addContext(context);
      logger.info('remediation outcome', audit);
    },
  ],
  ['EMF line (recordOutcomes)', 'WARN', () => recordOutcomes(metrics, 'cloudtrail', { cancelled: 1 })],
];

async function main(): Promise<void> {
  const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, level, run] of r % 2 === 0 ? cases : [...cases].reverse()) {
      logger.setLogLevel(level);
      for (let i = 0; i < 500; i++) await run();
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await run();
      results.get(name)?.push((1000 * (performance.now() - t0)) / N);
      logger.resetKeys();
    }
  }
  for (const [name, us] of results) {
    us.sort((a, b) => a - b);
    process.stderr.write(
      `${name.padEnd(52)} median ${us[Math.floor(us.length / 2)]?.toFixed(2)} us/call  (min ${us[0]?.toFixed(2)}, max ${us[us.length - 1]?.toFixed(2)})\n`,
    );
  }
}

main().then(
  () => undefined,
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);
