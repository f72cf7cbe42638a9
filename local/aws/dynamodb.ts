import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ledgerCreateTableInput } from '../../functions/shared/ledger-schema.ts';
import { listenOnLoopback } from '../listen.ts';

/**
 * A real DynamoDB implementation (dynalite, in process, in memory) holding the ledger table created
 * from the same spec as the stack's table, for `npm start` and the integration tests. dynalite refuses
 * UpdateTimeToLive, so TTL is not set locally: items simply never expire, and the functions never
 * need TTL to be on.
 */

export const DEFAULT_LEDGER_TABLE = 'cckm-deletion-guard-ledger';

export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  readonly tableName: string;
  /** Stops the server; pending connections are cut. */
  close(): Promise<void>;
}

export interface LocalDynamoDbOptions {
  readonly tableName?: string;
  /** Port on 127.0.0.1; default 0 (a free port). */
  readonly port?: number;
  /** LevelDB directory to keep the data between runs; in memory by default. */
  readonly path?: string;
}

/** Starts dynalite on 127.0.0.1 and creates the ledger table in it. */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const tableName = options.tableName ?? DEFAULT_LEDGER_TABLE;
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  const endpoint = `http://127.0.0.1:${await listenOnLoopback(server, options.port)}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  };
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // dynalite checks that a request is signed, not by whom.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    try {
      await client.send(new CreateTableCommand(ledgerCreateTableInput(tableName)));
    } catch (error) {
      // A persistent store (path) keeps the table from an earlier run.
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    }
    await waitActive(client, tableName);
  } catch (error) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, tableName, close };
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`local DynamoDB table ${tableName} did not become ACTIVE`);
}
