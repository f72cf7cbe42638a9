import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  BUNDLE_RUNTIME_ENV,
  FUNCTION_ENTRIES,
  FUNCTION_TIMEOUT_MS,
  type FunctionName,
} from '../infra/bundling.ts';
import {
  fromProxyResult,
  INTEGRATION_FAILURE_RESPONSE,
  type LocalHttpResponse,
  MISSING_ROUTE_RESPONSE,
  matchRoute,
  toApiGatewayEvent,
} from './api-gateway.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './aws/dynamodb.ts';
import { type AwsStandIns, startAwsStandIns } from './aws/index.ts';
import { BUILD_DIR, buildBundle, ROOT } from './build-bundles.ts';
import { FunctionError, type FunctionHost, startFunctionHost } from './function-host.ts';
import { listenOnLoopback } from './listen.ts';
import { type Simulator, type SimulatorOptions, startSimulator } from './simulator/index.ts';

/** Timeouts of the deployed functions, which the hosted ones keep. */
export { FUNCTION_TIMEOUT_MS };

/** Name of the CipherTrust Manager secret in the Secrets Manager stand-in. */
export const LOCAL_SECRET_ID = 'cckm/deletion-guard';
/** Name of the notification topic in the SNS stand-in. */
export const LOCAL_TOPIC_NAME = 'cckm-deletion-guard-notifications';

/** Options of `startLocalStack`. */
export interface LocalStackOptions {
  /** Port of the local API and events endpoint on 127.0.0.1; default 3000, 0 for a free one. */
  readonly port?: number;
  readonly simulator?: SimulatorOptions;
  /** Extra function environment (MODE, REENABLE, ALLOWED_PRINCIPALS, CCKM_TIMEOUT_MS, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where bundles are built; default `.build/`. */
  readonly outDir?: string;
  /** One line per invocation, for the terminal. */
  readonly log?: (line: string) => void;
  /** Receives the functions' own output (their JSON log lines); default: this process's stdout. */
  readonly functionOutput?: (chunk: string) => void;
}

/** A function of the local stack: hosted, or why not. */
export type LocalFunction =
  | { readonly available: true; readonly file: string; readonly host: FunctionHost }
  | { readonly available: false; readonly reason: string };

/** The running local stack. */
export interface LocalStack {
  /** `http://127.0.0.1:<port>`: API routes and `POST /events`. */
  readonly url: string;
  readonly port: number;
  readonly sim: Simulator;
  readonly aws: AwsStandIns;
  /** The ledger's DynamoDB (dynalite), with the table as the stack defines it. */
  readonly dynamo: LocalDynamoDb;
  readonly topicArn: string;
  /** The environment the functions were loaded with. */
  readonly env: Readonly<Record<string, string>>;
  readonly functions: Readonly<Record<FunctionName, LocalFunction>>;
  close(): Promise<void>;
}

/** A port that cannot be bound, with the message a person needs. */
export class PortInUseError extends Error {}

async function buildAndHost(
  name: FunctionName,
  outDir: string,
  env: Record<string, string>,
  onOutput: (chunk: string) => void,
): Promise<LocalFunction> {
  const entry = FUNCTION_ENTRIES[name];
  if (!existsSync(join(ROOT, entry))) {
    return { available: false, reason: `${entry} does not exist yet, so ${name} is not served` };
  }
  try {
    const built = await buildBundle(name, entry, outDir);
    const host = await startFunctionHost(built.file, {
      functionName: name,
      timeoutMs: FUNCTION_TIMEOUT_MS[name],
      env,
      onOutput,
    });
    return { available: true, file: built.file, host };
  } catch (e) {
    return {
      available: false,
      reason: `${name} failed to build or load: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: LocalHttpResponse): void {
  res.writeHead(r.status, { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) });
  res.end(r.body);
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): LocalHttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: `${JSON.stringify(body, null, 2)}\n`,
});

/**
 * Starts the guard on this machine: the CipherTrust Manager simulator (HTTPS), the Secrets Manager
 * and SNS stand-ins, dynalite holding the ledger table, the function bundles built exactly as deployed (infra/bundling.ts) and loaded
 * in this process, and an HTTP server with the API routes and `POST /events`.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  // The port is bound first, so a taken port fails at once rather than after the bundles are built.
  let handle: (req: IncomingMessage) => Promise<LocalHttpResponse> = async () =>
    json(503, { message: 'the local stack is starting' });
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req)
      .then((r) => send(res, r))
      .catch((e: unknown) => send(res, json(500, { message: `local server error: ${String(e)}` })));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wanted = options.port ?? 3000;
  const port = await listenOnLoopback(server, wanted).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'EADDRINUSE'
      ? new PortInUseError(
          `Port ${wanted} on 127.0.0.1 is already in use (another npm start?). Stop that process or pick another port: PORT=3001 npm start`,
        )
      : e;
  });
  const closeServer = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  const sim = await startSimulator(options.simulator).catch(async (e: unknown) => {
    await closeServer();
    throw e;
  });
  const aws = await startAwsStandIns().catch(async (e: unknown) => {
    await Promise.allSettled([closeServer(), sim.close()]);
    throw e;
  });
  const dynamo = await startLocalDynamoDb().catch(async (e: unknown) => {
    await Promise.allSettled([closeServer(), sim.close(), aws.close()]);
    throw e;
  });
  const closeBackends = async (): Promise<void> => {
    await Promise.allSettled([closeServer(), sim.close(), aws.close(), dynamo.close()]);
  };
  try {
    aws.secrets.put(LOCAL_SECRET_ID, { refresh_token: sim.credentials.refreshToken, ca_cert: sim.caPem });
    const topicArn = aws.sns.createTopic(LOCAL_TOPIC_NAME);
    const env: Record<string, string> = {
      ...aws.env(),
      ...BUNDLE_RUNTIME_ENV,
      CCKM_URL: sim.url,
      CCKM_SECRET_ID: LOCAL_SECRET_ID,
      NOTIFY_TOPIC_ARN: topicArn,
      // The ledger (contract section 7) in a real DynamoDB implementation, reached like the stand-ins.
      LEDGER_TABLE: dynamo.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
      // EMF metric lines would drown the audit lines in a terminal; nothing collects them locally.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // Scope everywhere, and sweeps that start a CCKM synchronization job, so a key scheduled directly
      // in AWS (sim-ctl schedule-in-aws) is cancelled by the second sweep (contract section 4).
      SCOPE_ACCOUNTS: '*',
      SCOPE_REGIONS: '*',
      SWEEP_SYNC: 'true',
      ...options.env,
    };
    const outDir = options.outDir ?? BUILD_DIR;
    const onOutput = options.functionOutput ?? ((chunk: string) => process.stdout.write(chunk));
    // Built one after the other: esbuild is quick, and two builds at once only compete for the CPU.
    const functions = {
      'cancel-deletion': await buildAndHost('cancel-deletion', outDir, env, onOutput),
      'remediate-deletion': await buildAndHost('remediate-deletion', outDir, env, onOutput),
    } satisfies Record<FunctionName, LocalFunction>;

    const unavailable = (name: FunctionName): LocalHttpResponse => {
      const f = functions[name];
      return json(503, { message: f.available ? '' : f.reason });
    };

    handle = async (req: IncomingMessage): Promise<LocalHttpResponse> => {
      const body = await readBody(req);
      const method = (req.method ?? 'GET').toUpperCase();
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      if (path === '/events') {
        if (method !== 'POST') return json(405, { message: 'POST an EventBridge event to /events' });
        const fn = functions['remediate-deletion'];
        if (!fn.available) return unavailable('remediate-deletion');
        let event: unknown;
        try {
          event = JSON.parse(body);
        } catch {
          return json(400, { message: 'the body must be an EventBridge event in JSON' });
        }
        const started = Date.now();
        const published = aws.sns.messages.length;
        try {
          const result = await fn.host.invoke(event);
          log(`event ${describeEvent(event)} -> ok (${Date.now() - started} ms)`);
          for (const m of aws.sns.messages.slice(published))
            log(`notification: ${m.subject ?? '(no subject)'}`);
          return json(200, result);
        } catch (e) {
          // As Lambda's Invoke API reports a function error: EventBridge would retry, then dead-letter.
          const error = e instanceof FunctionError ? e : new FunctionError('Error', String(e));
          log(`event ${describeEvent(event)} -> ${error.errorType} (${Date.now() - started} ms)`);
          return json(
            500,
            { errorType: error.errorType, errorMessage: error.message },
            { 'x-amz-function-error': 'Unhandled' },
          );
        }
      }
      if (method === 'GET' && path === '/notifications') {
        // What the remediation published to the SNS stand-in, oldest first (npm run event prints new ones).
        return json(
          200,
          aws.sns.messages.map((m) => ({
            at: m.at,
            subject: m.subject,
            message: JSON.parse(m.message) as unknown,
          })),
        );
      }
      if (method === 'GET' && path === '/') {
        return json(200, {
          api: ['POST /keys/{id}/cancel-deletion', 'POST /aws-keys/cancel-deletion'],
          events: 'POST /events',
          notifications: 'GET /notifications',
          functions: Object.fromEntries(
            Object.entries(functions).map(([k, f]) => [k, f.available ? 'ready' : f.reason]),
          ),
        });
      }
      const match = matchRoute(method, path);
      if (!match) return MISSING_ROUTE_RESPONSE;
      const fn = functions['cancel-deletion'];
      if (!fn.available) return unavailable('cancel-deletion');
      const event = toApiGatewayEvent(
        {
          method,
          url: req.url ?? '/',
          headers: req.headers,
          body,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        },
        match,
      );
      const started = Date.now();
      try {
        const result = await fn.host.invoke<APIGatewayProxyResult>(event);
        const response = fromProxyResult(result);
        log(`${method} ${path} -> ${response.status} (${Date.now() - started} ms)`);
        return response;
      } catch (e) {
        log(`${method} ${path} -> function error ${e instanceof Error ? e.message : String(e)}`);
        return INTEGRATION_FAILURE_RESPONSE;
      }
    };

    return {
      url: `http://127.0.0.1:${port}`,
      port,
      sim,
      aws,
      dynamo,
      topicArn,
      env,
      functions,
      async close() {
        await Promise.allSettled(
          Object.values(functions).map((f) => (f.available ? f.host.close() : undefined)),
        );
        await closeBackends();
      },
    };
  } catch (e) {
    await closeBackends();
    throw e;
  }
}

function describeEvent(event: unknown): string {
  if (typeof event !== 'object' || event === null) return '(not an object)';
  const e = event as { source?: unknown; 'detail-type'?: unknown; detail?: { eventName?: unknown } };
  const name = typeof e.detail?.eventName === 'string' ? ` ${e.detail.eventName}` : '';
  return `${String(e.source)} / ${String(e['detail-type'])}${name}`;
}
