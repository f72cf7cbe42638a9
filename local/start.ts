import { LOCAL_SECRET_ID, type LocalStack, PortInUseError, startLocalStack } from './local-stack.ts';
import { writeSimulatorState } from './state-dir.ts';

/*
 * `npm start`: the whole guard on this machine, no AWS account. PORT (default 3000) moves the local
 * API; SIM_PORT fixes the simulator's port (default: any free one).
 */

const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(1);
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

out('Building the function bundles (infra/bundling.ts) and starting the local stack...');
let stack: LocalStack;
try {
  stack = await startLocalStack({
    port,
    simulator: { port: Number(process.env.SIM_PORT ?? 0), verbose: false },
    log: (line) => out(`[local] ${line}`),
  });
} catch (e) {
  process.stderr.write(
    `${e instanceof PortInUseError ? e.message : `npm start failed: ${e instanceof Error ? e.stack : String(e)}`}\n`,
  );
  process.exit(1);
}

const caFile = writeSimulatorState(stack.sim.url, stack.sim.caPem);
const keys = stack.sim.keys.list();
const named = (name: string) => stack.sim.keys.byName(name);
const payments = named('payments');
const ledger = named('ledger');
const replica = named('global-replica-eu');
const curl = (path: string, body?: unknown): string =>
  `curl -s -X POST ${stack.url}${path}${body === undefined ? '' : ` -H 'content-type: application/json' -d '${JSON.stringify(body)}'`}`;

out();
out('CCKM Deletion Guard is running locally');
out(
  `  API         ${stack.url}   POST /keys/{id}/cancel-deletion, POST /aws-keys/cancel-deletion (IAM auth is not checked locally)`,
);
out(
  `  Events      ${stack.url}/events   npm run event -- schedule-key-deletion | schedule-multi-region-primary | denied-attempt | alarm | sweep | forwarded-schedule | heartbeat`,
);
out(
  `  CipherTrust Manager simulator  ${stack.sim.url}   CA ${caFile}   control: npx tsx local/sim-ctl.ts --help`,
);
out(
  `  Secrets Manager + SNS stand-ins ${stack.aws.url}   secret ${LOCAL_SECRET_ID} (refresh_token + ca_cert), topic ${stack.topicArn}`,
);
out(
  `  Ledger (dynalite, in memory)   ${stack.dynamo.endpoint}   table ${stack.dynamo.tableName}: aws dynamodb scan --table-name ${stack.dynamo.tableName} --endpoint-url ${stack.dynamo.endpoint}`,
);
for (const [name, f] of Object.entries(stack.functions)) {
  out(`  function ${name.padEnd(19)} ${f.available ? `ready (${f.file})` : `NOT SERVED: ${f.reason}`}`);
}
out();
out('Seeded CCKM keys (CCKM id, state as CCKM shows it, region, account, aliases):');
for (const k of keys) {
  const truth = stack.sim.keys.aws(k.id);
  const stale =
    truth && truth.KeyState !== k.aws_param.KeyState
      ? `   (AWS truth: ${truth.KeyState}; CCKM copy is stale)`
      : '';
  out(
    `  ${k.id}  ${k.aws_param.KeyState.padEnd(22)} ${k.region.padEnd(12)} ${k.aws_param.AWSAccountId}  ${k.aws_param.Alias.join(',')}${stale}`,
  );
}
out();
out('Try:');
out(`  ${curl(`/keys/${payments.id}/cancel-deletion`)}`);
out(`  ${curl(`/keys/${ledger.id}/cancel-deletion`, { enable: true })}`);
out(`  ${curl('/aws-keys/cancel-deletion', { arn: replica.aws_param.Arn })}`);
out(`  ${curl('/aws-keys/cancel-deletion', { keyId: replica.aws_param.KeyID, region: 'eu-west-1' })}`);
out(`  ${curl('/keys/not-a-uuid/cancel-deletion')}      # 400, nothing reaches CipherTrust Manager`);
out('  npm run event -- sweep');
out(
  '  npm run event -- forwarded-schedule   # ScheduleKeyDeletion from 444455556666 / eu-west-1, as the hub bus delivers it: cancels alias/telemetry',
);
out(
  '  npm run event -- heartbeat            # a spoke heartbeat from 444455556666 / eu-west-1 (recorded with a ledger)',
);
out('  npx tsx local/sim-ctl.ts fault "POST /api/v1/cckm/aws/keys/*/cancel-deletion status=503 times=2"');
out(
  '  npx tsx local/sim-ctl.ts schedule-in-aws analytics 7   # then npm run event -- sweep twice: the first starts a CCKM sync job (SWEEP_SYNC), the second cancels',
);
out();
out(`Ready on ${stack.url} (Ctrl-C stops)`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  out(`\n${signal}: stopping`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  stack.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
