import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { parseFaultArg, shorthandFault } from './simulator/fault-cli.ts';
import { SIMULATOR_STATE_FILE, type SimulatorStateFile } from './state-dir.ts';

/*
 * Drives a running simulator (`npm run simulator` or `npm start`) through its `/__sim/` control API.
 *   npx tsx local/sim-ctl.ts fault "POST /api/v1/cckm/aws/keys/*\/cancel-deletion status=429 retryAfter=1 times=2"
 *   npx tsx local/sim-ctl.ts expire-tokens | clear-faults | reset | state | keys
 *   npx tsx local/sim-ctl.ts schedule-in-aws <cckm id or seeded name> [days]
 *   npx tsx local/sim-ctl.ts advance-clock <seconds> | generate-pending <count> | sync <id or name>
 *   npx tsx local/sim-ctl.ts echo 502 html with-auth /api/v1/auth/tokens | lose-answer | refuse-cancel
 *   npx tsx local/sim-ctl.ts start-sync eu-west-1 us-east-1 | sync-jobs | complete-sync | counters
 * --url and --ca default to what the running simulator wrote in .local-state/simulator.json.
 */

const USAGE = `usage: npx tsx local/sim-ctl.ts [--url https://127.0.0.1:8443] [--ca file.pem] <command> [args]
commands:
  state                                  counters, request log, fault table and sync jobs
  counters                               counters only (token grants and requests by grant type,
                                         the last password grant's fields, requests per route, sync jobs)
  keys                                   every CCKM record with its AWS truth
  fault "<METHOD> <path-glob> status=503 times=2 retryAfter=1 | delayMs=9000 | reset"
      more keys: echo=body|body+authorization echoFormat=json|text|html|urlencoded take-effect
                 kmsError="<text>" kmsException=<name> tamper=<kind> tamperIndex=<n>
  echo <status> [json|text|html|urlencoded] [with-auth] [path-glob]
                                         answer <status> with text that echoes the request body
                                         (and the Authorization header); default path * (any)
  lose-answer [<status>|reset] [path-glob]
                                         the next cancel takes effect, then 504 (or the connection drops)
  refuse-cancel ["<text>"]               the next cancel is refused with KMSInvalidStateException: <text>,
                                         nothing changes; default "{arn} is pending deletion." ({arn},
                                         {keyId}, {id} are filled in)
  tamper missing-arn|non-uuid-id [index] the next listing has one malformed record (default the first)
  tamper ignore-keystate                 the next listing ignores keystate (returns every key)
  tamper other-id                        the next GET /keys/{id} answers with another id
      each shorthand takes extras such as times=3 (times=-1: until clear-faults)
  clear-faults
  expire-tokens                          every issued bearer token is expired from now on
  reset                                  faults, log, counters and inventory back to the seed
  schedule-in-aws <id|name> [days]       schedule deletion directly in AWS (CCKM copy goes stale)
  sync <id|name>                         bring CCKM's copy of one key up to date
  advance-clock <seconds>
  generate-pending <count>
  start-sync <region>... | start-sync all
                                         start a CCKM synchronization job (as POST
                                         /api/v1/cckm/aws/synchronization-jobs would; 409 if one runs)
  sync-jobs                              every synchronization job since the last reset
  complete-sync [job id]                 complete running jobs now (CCKM's copies refreshed)
  sync-delay <ms>                        delay from start to completion of later jobs (default 200)
`;

/** Sends one control request and returns the status and parsed body. */
export async function simControl(
  target: { url: string; caPem: string },
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const dispatcher = new Agent({ connect: { ca: target.caPem } });
  try {
    const res = await request(`${target.url}${path}`, {
      method,
      dispatcher,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // The CA route answers PEM text.
    }
    return { status: res.statusCode, body: parsed };
  } finally {
    await dispatcher.close();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { url: { type: 'string' }, ca: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  let url = values.url;
  let caFile = values.ca;
  if (!url || !caFile) {
    let state: SimulatorStateFile;
    try {
      state = JSON.parse(readFileSync(SIMULATOR_STATE_FILE, 'utf8')) as SimulatorStateFile;
    } catch {
      throw new Error(
        `no running simulator found (${SIMULATOR_STATE_FILE}); start one or pass --url and --ca`,
      );
    }
    url ??= state.url;
    caFile ??= state.caFile;
  }
  const target = { url, caPem: readFileSync(caFile, 'utf8') };
  const key = (v: string | undefined): string => {
    if (!v) throw new Error('give a CCKM id or a seeded key name');
    return encodeURIComponent(v);
  };
  let result: { status: number; body: unknown };
  switch (command) {
    case 'state':
      result = await simControl(target, 'GET', '/__sim/state');
      break;
    case 'keys':
      result = await simControl(target, 'GET', '/__sim/keys');
      break;
    case 'fault':
      result = await simControl(target, 'POST', '/__sim/faults', parseFaultArg(args.join(' ')));
      break;
    case 'echo':
    case 'lose-answer':
    case 'refuse-cancel':
    case 'tamper':
      result = await simControl(target, 'POST', '/__sim/faults', shorthandFault(command, args));
      break;
    case 'counters':
      result = await simControl(target, 'GET', '/__sim/counters');
      break;
    case 'start-sync':
      if (args.length === 0) throw new Error('start-sync: give Regions, or all');
      result = await simControl(
        target,
        'POST',
        '/__sim/sync-jobs',
        args[0] === 'all' ? { synchronize_all: true } : { regions: args },
      );
      break;
    case 'sync-jobs':
      result = await simControl(target, 'GET', '/__sim/sync-jobs');
      break;
    case 'complete-sync':
      result = await simControl(target, 'POST', '/__sim/sync-jobs/complete', args[0] ? { id: args[0] } : {});
      break;
    case 'sync-delay':
      result = await simControl(target, 'POST', '/__sim/sync-jobs/delay', { ms: Number(args[0]) });
      break;
    case 'clear-faults':
      result = await simControl(target, 'DELETE', '/__sim/faults');
      break;
    case 'expire-tokens':
      result = await simControl(target, 'POST', '/__sim/expire-tokens');
      break;
    case 'reset':
      result = await simControl(target, 'POST', '/__sim/reset');
      break;
    case 'schedule-in-aws':
      result = await simControl(target, 'POST', `/__sim/keys/${key(args[0])}/schedule-deletion-in-aws`, {
        days: Number(args[1] ?? 30),
      });
      break;
    case 'sync':
      result = await simControl(target, 'POST', `/__sim/keys/${key(args[0])}/sync`);
      break;
    case 'advance-clock':
      result = await simControl(target, 'POST', '/__sim/clock', { advanceSec: Number(args[0] ?? 0) });
      break;
    case 'generate-pending':
      result = await simControl(target, 'POST', '/__sim/keys/generate-pending', {
        count: Number(args[0] ?? 0),
      });
      break;
    default:
      throw new Error(`unknown command ${command}\n${USAGE}`);
  }
  process.stdout.write(
    `${result.status}${result.body === undefined ? '' : ` ${JSON.stringify(result.body, null, 2)}`}\n`,
  );
  if (result.status >= 400) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
