import { parseArgs } from 'node:util';
import { writeSimulatorState } from '../state-dir.ts';
import { parseFaultArg } from './fault-cli.ts';
import { generatePendingKeys } from './seed.ts';
import { startSimulator } from './server.ts';

/*
 * `npm run simulator [-- --port 8443 --token-lifetime 300 --generate 10000 --fault "<spec>" --quiet]`
 * Runs the CipherTrust Manager simulator alone and prints how to reach it.
 */

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SIM_PORT ?? '8443' },
    'token-lifetime': { type: 'string', default: '300' },
    'auto-sync-ms': { type: 'string' },
    generate: { type: 'string' },
    fault: { type: 'string', multiple: true },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'npm run simulator -- [--port 8443] [--token-lifetime 300] [--auto-sync-ms N] [--generate N]\n' +
      '                    [--fault "POST /api/v1/cckm/aws/keys/*/cancel-deletion status=503 times=2"] [--quiet]\n',
  );
  process.exit(0);
}

const sim = await startSimulator({
  port: Number(values.port),
  tokenLifetimeSec: Number(values['token-lifetime']),
  ...(values['auto-sync-ms'] ? { autoSyncMs: Number(values['auto-sync-ms']) } : {}),
  verbose: !values.quiet,
}).catch((e: unknown) => {
  const code = (e as { code?: string }).code;
  process.stderr.write(
    code === 'EADDRINUSE'
      ? `Port ${values.port} is taken: pass --port <free port> (or --port 0 for any).\n`
      : `Simulator failed to start: ${String(e)}\n`,
  );
  process.exit(1);
});

if (values.generate) {
  for (const k of generatePendingKeys(Number(values.generate))) sim.keys.add(k);
}
for (const f of values.fault ?? []) sim.faults.add(parseFaultArg(f));

const caFile = writeSimulatorState(sim.url, sim.caPem);
const lines = [
  `CipherTrust Manager simulator at ${sim.url}`,
  `  CA certificate: ${caFile}   (curl --cacert ${caFile} ...)`,
  `  username: ${sim.credentials.username}`,
  `  password: ${sim.credentials.password}`,
  `  refresh_token: ${sim.credentials.refreshToken}`,
  `  keys (${sim.keys.size}):`,
  ...sim.keys
    .list()
    .slice(0, 20)
    .map(
      (k) =>
        `    ${k.id}  ${k.aws_param.KeyState.padEnd(22)} ${k.region.padEnd(13)} ${k.aws_param.AWSAccountId} ${k.aws_param.Alias.join(',')}`,
    ),
  `  control: npx tsx local/sim-ctl.ts --help`,
  '',
  `  curl --cacert ${caFile} -s ${sim.url}/api/v1/auth/tokens -H 'Content-Type: application/json' \\`,
  `    -d '{"grant_type":"refresh_token","refresh_token":"${sim.credentials.refreshToken}"}'`,
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);

const stop = (): void => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
