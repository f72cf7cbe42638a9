import type {
  DynamoDBClient,
  ServiceInputTypes,
  ServiceOutputTypes,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { Heartbeat, Ledger, LedgerCallOptions, LedgerEntry } from '../domain/ledger.ts';
import { LedgerError } from '../domain/ledger.ts';
import { HEARTBEAT_PK, LEDGER_PARTITION_KEY as PK } from '../shared/ledger-schema.ts';
import { mapBounded } from '../shared/map-bounded.ts';
import { CallBudget } from './call-budget.ts';
import type { Item } from './ledger-items.ts';
import { decisionKey, heartbeatItem, LAST_SEEN_MS, toEntry, toHeartbeat, toItem } from './ledger-items.ts';

/**
 * The ledger over DynamoDB with the plain client: the items have a dozen flat attributes, so marshalling
 * them by hand is a few lines, where `@aws-sdk/lib-dynamodb` (plus `util-dynamodb`) would add a
 * dependency and bundle bytes to every cold start for no rule it could enforce better.
 *
 * Calls: readDecisions = ceil(n/100) BatchGetItem (strongly consistent, so a sweep sees an `allowed`
 * an event wrote a second earlier), recordDecisions = ceil(n/25) BatchWriteItem, recordHeartbeat = one
 * conditional PutItem, readHeartbeats = one Query per 1 MB page; plus bounded retries of unprocessed
 * keys and items. Every failure is a LedgerError.
 */

/** BatchGetItem's limit of keys per call. */
export const READ_BATCH = 100;
/** BatchWriteItem's limit of requests per call. */
export const WRITE_BATCH = 25;

/** The names the heartbeat condition and query use: the partition key and the last-seen time. */
const HEARTBEAT_NAMES = { '#pk': PK, '#ms': LAST_SEEN_MS };

export interface DynamoLedgerOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Calls per batch, the first included, before unprocessed keys or items fail the operation. */
  readonly maxAttempts?: number;
  /** First backoff before retrying unprocessed work; doubles per attempt, with jitter. */
  readonly baseDelayMs?: number;
  /** The longest one request may take, whatever the deadline. */
  readonly callTimeoutMs?: number;
  /** Batches in flight at once. */
  readonly concurrency?: number;
  /** Heartbeat Query pages read before giving up (each holds thousands of pairs). */
  readonly maxPages?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Creates the DynamoDB ledger. */
export function createDynamoLedger(options: DynamoLedgerOptions): Ledger {
  const {
    client,
    tableName,
    maxAttempts = 5,
    baseDelayMs = 50,
    callTimeoutMs = 3000,
    concurrency = 4,
    maxPages = 20,
    now = Date.now,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = options;

  /** Sends one request within the deadline, turning every failure into a LedgerError. */
  async function send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    operation: LedgerError['operation'],
    name: string,
    command: Parameters<typeof client.send<I, O>>[0],
    opts: LedgerCallOptions | undefined,
  ): Promise<O> {
    const left = opts?.deadline === undefined ? callTimeoutMs : opts.deadline - now();
    if (left <= 0) throw new LedgerError(operation, `${name}: the time budget is spent`);
    // The shared budget timer (`call-budget.ts`), stopped when the call settles: AbortSignal.timeout
    // left a timer per call that fired seconds after the call was done.
    const budget = new CallBudget(Math.min(left, callTimeoutMs));
    try {
      // The budget is the SDK's abort signal itself (`call-budget.ts`).
      return await client.send(command, { abortSignal: budget });
    } catch (error) {
      if (error instanceof LedgerError || error instanceof ConditionalCheckFailedException) throw error;
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new LedgerError(operation, `DynamoDB ${name} failed: ${detail}`.slice(0, 500), { cause: error });
    } finally {
      budget.done();
    }
  }

  /**
   * Calls `call` with the work DynamoDB has not processed yet (all of it first) until none is left,
   * backing off between calls (doubling, with jitter) unless the deadline would pass first; more than
   * maxAttempts calls fail the operation.
   */
  async function untilProcessed<T>(
    operation: 'read' | 'write',
    what: string,
    work: T[],
    opts: LedgerCallOptions | undefined,
    call: (pending: T[]) => Promise<T[]>,
  ): Promise<void> {
    let pending = work;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new LedgerError(
          operation,
          `${pending.length} ${what} still unprocessed after ${maxAttempts} calls`,
        );
      }
      if (attempt > 1) {
        const delay = baseDelayMs * 2 ** (attempt - 2) * (0.5 + Math.random() / 2);
        if (opts?.deadline !== undefined && now() + delay >= opts.deadline) {
          throw new LedgerError(operation, 'unprocessed ledger work left when the time budget ran out');
        }
        await sleep(delay);
      }
      pending = await call(pending);
    }
  }

  return {
    async readDecisions(arns, opts) {
      // BatchGetItem refuses a request naming one key twice.
      const batches = chunk([...new Set(arns)], READ_BATCH).map((b) => b.map(decisionKey));
      const entries = new Map<string, LedgerEntry>();
      await mapBounded(batches, concurrency, (keys) =>
        untilProcessed('read', 'ledger key(s)', keys, opts, async (pending) => {
          const request = { [tableName]: { Keys: pending, ConsistentRead: true } };
          const out = await send(
            'read',
            'BatchGetItem',
            new BatchGetItemCommand({ RequestItems: request }),
            opts,
          );
          for (const item of out.Responses?.[tableName] ?? []) {
            const entry = toEntry(item);
            // An unreadable item is as good as none: the domain then decides as if nothing was remembered.
            if (entry) entries.set(entry.arn, entry);
          }
          return out.UnprocessedKeys?.[tableName]?.Keys ?? [];
        }),
      );
      return entries;
    },

    async recordDecisions(entries, opts) {
      // Every entry is checked before the first call, so bad input changes nothing.
      const byArn = new Map<string, WriteRequest>();
      for (const entry of entries) byArn.set(entry.arn, { PutRequest: { Item: toItem(entry) } });
      await mapBounded(chunk([...byArn.values()], WRITE_BATCH), concurrency, (requests) =>
        untilProcessed('write', 'ledger item(s)', requests, opts, async (pending) => {
          const out = await send(
            'write',
            'BatchWriteItem',
            new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
            opts,
          );
          return out.UnprocessedItems?.[tableName] ?? [];
        }),
      );
    },

    async recordHeartbeat(heartbeat, opts) {
      const item = heartbeatItem(heartbeat);
      try {
        await send(
          'heartbeat',
          'PutItem',
          new PutItemCommand({
            TableName: tableName,
            Item: item,
            // Heartbeats may arrive out of order: an older one never replaces a newer one.
            ConditionExpression: 'attribute_not_exists(#pk) OR #ms < :ms',
            ExpressionAttributeNames: HEARTBEAT_NAMES,
            ExpressionAttributeValues: { ':ms': item[LAST_SEEN_MS]! },
          }),
          opts,
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return;
        throw error;
      }
    },

    async readHeartbeats(sinceMs, opts) {
      const heartbeats: Heartbeat[] = [];
      let start: Item | undefined;
      for (let page = 1; ; page++) {
        if (page > maxPages) {
          throw new LedgerError('read', `more than ${maxPages} pages of heartbeats`);
        }
        const out = await send(
          'read',
          'Query',
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :pk',
            // TTL deletes lazily: older items may still be there.
            FilterExpression: '#ms >= :since',
            ExpressionAttributeNames: HEARTBEAT_NAMES,
            ExpressionAttributeValues: { ':pk': { S: HEARTBEAT_PK }, ':since': { N: String(sinceMs) } },
            ExclusiveStartKey: start,
          }),
          opts,
        );
        for (const item of out.Items ?? []) {
          const hb = toHeartbeat(item);
          if (hb) heartbeats.push(hb);
        }
        start = out.LastEvaluatedKey;
        if (!start) return heartbeats;
      }
    },
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
