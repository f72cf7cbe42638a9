import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ledgerCreateTableInput } from '../functions/shared/ledger-schema.ts';

/**
 * The sweep's ledger, when there is one: a dynalite (a real DynamoDB implementation) on 127.0.0.1
 * whose every request is counted by DynamoDB operation (the `X-Amz-Target` header), so a sweep row
 * can say how many reads and writes the remediation function made.
 *
 * `LEDGER_SETUP` creates the table on that endpoint as the stack defines it
 * (`functions/shared/ledger-schema.ts`), so every sweep runs with `LEDGER_TABLE` and
 * `AWS_ENDPOINT_URL_DYNAMODB` and its row carries `ledgerCalls`.
 */

/** Creates the ledger table on a DynamoDB endpoint and returns its name. */
export type LedgerSetup = (endpoint: string) => Promise<string>;

/** The ledger table's name in the bench's dynalite. */
const BENCH_LEDGER_TABLE = 'cckm-deletion-guard-ledger';

/** Creates the ledger table as the stack defines it; every sweep runs with it. */
export const LEDGER_SETUP: LedgerSetup = async (endpoint) => {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // dynalite checks that a request is signed, not by whom.
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await client.send(new CreateTableCommand(ledgerCreateTableInput(BENCH_LEDGER_TABLE)));
  } finally {
    client.destroy();
  }
  return BENCH_LEDGER_TABLE;
};

/** A dynalite that counts the calls made to it. */
export interface CountingDynamo {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  /** Calls by operation (`BatchGetItem`, `BatchWriteItem`, ...) since the start or the last reset. */
  calls(): Record<string, number>;
  /** Forgets the calls so far (table creation is not the function's). */
  reset(): void;
  close(): Promise<void>;
}

type Dynalite = (options: Record<string, unknown>) => Server;

/** Starts an in-memory dynalite on 127.0.0.1 (tables ready at once) that counts calls by operation. */
export async function startCountingDynamo(): Promise<CountingDynamo> {
  // dynalite is CommonJS without types; loaded here, so nothing else of the bench pays for it.
  const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let counts: Record<string, number> = {};
  server.on('request', (request: { headers: Record<string, string | string[] | undefined> }) => {
    const target = request.headers['x-amz-target'];
    const operation = (typeof target === 'string' ? target.split('.').at(-1) : undefined) || 'unknown';
    counts[operation] = (counts[operation] ?? 0) + 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls: () => ({ ...counts }),
    reset() {
      counts = {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** A ledger for one sweep: the counting endpoint and the function's environment for it. */
export interface SweepLedger {
  readonly dynamo: CountingDynamo;
  readonly env: Readonly<Record<string, string>>;
}

/** Starts the ledger of one sweep with `setup`, or returns undefined for a sweep without a ledger (null). */
export async function startSweepLedger(
  setup: LedgerSetup | null = LEDGER_SETUP,
): Promise<SweepLedger | undefined> {
  if (!setup) return undefined;
  const dynamo = await startCountingDynamo();
  try {
    const table = await setup(dynamo.endpoint);
    dynamo.reset();
    return { dynamo, env: { LEDGER_TABLE: table, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint } };
  } catch (error) {
    await dynamo.close();
    throw error;
  }
}
