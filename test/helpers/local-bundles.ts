import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { FUNCTION_ENTRIES, type FunctionName } from '../../infra/bundling.ts';
import { fromProxyResult, matchRoute, toApiGatewayEvent } from '../../local/api-gateway.ts';
import type { LocalDynamoDb } from '../../local/aws/dynamodb.ts';
import { buildBundle } from '../../local/build-bundles.ts';
import type { FunctionHost } from '../../local/function-host.ts';

const built: string[] = [];

/** Builds one function bundle, exactly as deployed, into a fresh temporary directory; returns its file. */
export async function buildTestBundle(name: FunctionName): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `guard-${name}-`));
  built.push(dir);
  return (await buildBundle(name, FUNCTION_ENTRIES[name], dir)).file;
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
