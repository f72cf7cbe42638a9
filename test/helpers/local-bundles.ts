import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { FUNCTION_ENTRIES, type FunctionName } from '../../infra/bundling.ts';
import { fromProxyResult, matchRoute, toApiGatewayEvent } from '../../local/api-gateway.ts';
import type { LocalDynamoDb } from '../../local/aws/dynamodb.ts';
import { type AwsStandIns, startAwsStandIns } from '../../local/aws/index.ts';
import { buildBundle } from '../../local/build-bundles.ts';
import { type FunctionHost, startFunctionHost } from '../../local/function-host.ts';
import { FUNCTION_TIMEOUT_MS } from '../../local/local-stack.ts';
import { type Simulator, startSimulator } from '../../local/simulator/index.ts';

/** The guard's Secrets Manager secret in the integration suites. */
export const SECRET_ID = 'cckm/deletion-guard';

const built: string[] = [];

/** Builds one function bundle, exactly as deployed, into a fresh temporary directory; returns its file. */
export async function buildTestBundle(name: FunctionName): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `guard-${name}-`));
  built.push(dir);
  return (await buildBundle(name, FUNCTION_ENTRIES[name], dir)).file;
}

/** Builds several bundles at once; returns their files in the same order. */
export function buildTestBundles<const N extends readonly FunctionName[]>(
  ...names: N
): Promise<{ -readonly [K in keyof N]: string }> {
  return Promise.all(names.map(buildTestBundle)) as Promise<{ -readonly [K in keyof N]: string }>;
}

/** Removes every bundle this test file built (a few MB each, with source maps). */
export function removeTestBundles(): void {
  for (const dir of built.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An API answer: status, headers and parsed JSON body. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

/**
 * Sends an HTTP-shaped request through the local API Gateway translation to a hosted
 * cancel-deletion function, as `npm start` does, without the HTTP server in between.
 */
export async function callApi(
  host: FunctionHost,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const match = matchRoute(method, path);
  if (!match) throw new Error(`no API route for ${method} ${path}`);
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const event = toApiGatewayEvent(
    {
      method,
      url: path,
      headers: { 'content-type': 'application/json', 'user-agent': 'vitest' },
      body: text,
      sourceIp: '127.0.0.1',
    },
    match,
  );
  const started = Date.now();
  const result = await host.invoke<APIGatewayProxyResult>(event);
  const response = fromProxyResult(result);
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(response.body) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

/** The remediation function's environment for a ledger in a local dynalite (`startLocalDynamoDb()`). */
export function ledgerEnv(dynamo: LocalDynamoDb): Record<string, string> {
  return { LEDGER_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
}

/** Closes what an integration suite started (hosts, simulator, stand-ins) and removes the test bundles. */
export async function stopAll(
  hosts: readonly FunctionHost[],
  ...services: readonly ({ close(): Promise<void> } | undefined)[]
): Promise<void> {
  await Promise.all(hosts.map((h) => h.close()));
  for (const service of services) await service?.close();
  removeTestBundles();
}

/** The CipherTrust Manager simulator (HTTPS, its own CA) and the Secrets Manager / SNS stand-ins. */
export async function startBackends(): Promise<{ sim: Simulator; aws: AwsStandIns }> {
  const sim = await startSimulator();
  const aws = await startAwsStandIns();
  return { sim, aws };
}

/** A sample event of local/events/, as `npm run send-event` sends it. */
export const sampleEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`local/events/${name}.json`, 'utf8')) as Record<string, unknown>;

/** Stores the guard's secret: the simulator's refresh token and CA. */
export function putRefreshSecret(aws: AwsStandIns, sim: Simulator): void {
  aws.secrets.put(SECRET_ID, { refresh_token: sim.credentials.refreshToken, ca_cert: sim.caPem });
}

/** The environment that points a hosted function at the stand-ins and the simulator, with the secret's id. */
export const guardEnv = (sim: Simulator, aws: AwsStandIns): Record<string, string> => ({
  ...aws.env(),
  CCKM_URL: sim.url,
  CCKM_SECRET_ID: SECRET_ID,
});

/**
 * Hosts `bundle` as the function `name`, with its deployed timeout, `env`, and its output to `onOutput`;
 * adds the host to `hosts` (for `stopAll`).
 */
export async function hostFunction(
  hosts: FunctionHost[],
  bundle: string,
  name: FunctionName,
  env: Record<string, string>,
  onOutput?: (chunk: string) => void,
): Promise<FunctionHost> {
  const host = await startFunctionHost(bundle, {
    functionName: name,
    timeoutMs: FUNCTION_TIMEOUT_MS[name],
    env,
    onOutput,
  });
  hosts.push(host);
  return host;
}

/** A result's outcomes by key: `<first alias, else CCKM id, else ARN>@<Region>` → outcome. */
export function outcomesByKey(
  sim: Simulator,
  result: {
    readonly outcomes: readonly {
      outcome: string;
      key: { cckmId?: string; arn?: string; region?: string };
    }[];
  },
): Record<string, string> {
  const names = new Map(sim.keys.list().map((k) => [k.id, k.aws_param.Alias[0] ?? k.id]));
  return Object.fromEntries(
    result.outcomes.map((o) => [`${names.get(o.key.cckmId ?? '') ?? o.key.arn}@${o.key.region}`, o.outcome]),
  );
}
