import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { Heartbeat, Ledger, LedgerCallOptions, LedgerEntry } from '../domain/ledger.ts';
import { decisionExpiry, heartbeatExpiry, LedgerError } from '../domain/ledger.ts';
import type { Outcome } from '../domain/remediation-outcome.ts';
import { OUTCOMES } from '../domain/remediation-outcome.ts';
import {
  LEDGER_ATTRIBUTES as A,
  DECISION_SK,
  decisionPk,
  HEARTBEAT_PK,
  heartbeatSk,
  LEDGER_PARTITION_KEY as PK,
  LEDGER_SORT_KEY as SK,
  LEDGER_TTL_ATTRIBUTE as TTL,
} from '../shared/ledger-schema.ts';

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

const DEFAULTS = { maxAttempts: 5, baseDelayMs: 50, callTimeoutMs: 3000, concurrency: 4, maxPages: 20 };
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOMES);

type Item = Record<string, AttributeValue>;

/** Creates the DynamoDB ledger. */
export function createDynamoLedger(options: DynamoLedgerOptions): Ledger {
  const { client, tableName } = options;
  const cfg = { ...DEFAULTS, ...definedOnly(options) };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /** Sends one request within the deadline, turning every failure into a LedgerError. */
  async function send<T>(
    operation: LedgerError['operation'],
    name: string,
    call: (abortSignal: AbortSignal) => Promise<T>,
    opts: LedgerCallOptions | undefined,
  ): Promise<T> {
    const left = opts?.deadline === undefined ? cfg.callTimeoutMs : opts.deadline - now();
    if (left <= 0) throw new LedgerError(operation, `${name}: the time budget is spent`);
    try {
      return await call(AbortSignal.timeout(Math.min(left, cfg.callTimeoutMs)));
    } catch (error) {
      if (error instanceof LedgerError || error instanceof ConditionalCheckFailedException) throw error;
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new LedgerError(operation, `DynamoDB ${name} failed: ${detail}`.slice(0, 500), { cause: error });
    }
  }

  /** Waits before retry `attempt` (1-based), unless the deadline would pass first. */
  async function backoff(operation: LedgerError['operation'], attempt: number, opts?: LedgerCallOptions) {
    const delay = cfg.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    if (opts?.deadline !== undefined && now() + delay >= opts.deadline) {
      throw new LedgerError(operation, 'unprocessed ledger work left when the time budget ran out');
    }
    await sleep(delay);
  }

  async function readBatch(keys: Item[], opts?: LedgerCallOptions): Promise<Item[]> {
    const found: Item[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > cfg.maxAttempts) {
        throw new LedgerError(
          'read',
          `${pending.length} ledger key(s) still unprocessed after ${cfg.maxAttempts} calls`,
        );
      }
      if (attempt > 1) await backoff('read', attempt - 1, opts);
      const request = { [tableName]: { Keys: pending, ConsistentRead: true } };
      const out = await send(
        'read',
        'BatchGetItem',
        (abortSignal) => client.send(new BatchGetItemCommand({ RequestItems: request }), { abortSignal }),
        opts,
      );
      found.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
    return found;
  }

  async function writeBatch(requests: WriteRequest[], opts?: LedgerCallOptions): Promise<void> {
    let pending = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > cfg.maxAttempts) {
        throw new LedgerError(
          'write',
          `${pending.length} ledger item(s) still unprocessed after ${cfg.maxAttempts} calls`,
        );
      }
      if (attempt > 1) await backoff('write', attempt - 1, opts);
      const out = await send(
        'write',
        'BatchWriteItem',
        (abortSignal) =>
          client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }), { abortSignal }),
        opts,
      );
      pending = out.UnprocessedItems?.[tableName] ?? [];
    }
  }

  return {
    async readDecisions(arns, opts) {
      // BatchGetItem refuses a request naming one key twice.
      const unique = [...new Set(arns)];
      const batches = chunk(unique, READ_BATCH).map((b) =>
        b.map((arn): Item => ({ [PK]: { S: decisionPk(arn) }, [SK]: { S: DECISION_SK } })),
      );
      const results = await mapBounded(batches, cfg.concurrency, (keys) => readBatch(keys, opts));
      const entries = new Map<string, LedgerEntry>();
      for (const item of results.flat()) {
        const entry = toEntry(item);
        // An unreadable item is as good as none: the domain then decides as if nothing was remembered.
        if (entry) entries.set(entry.arn, entry);
      }
      return entries;
    },

    async recordDecisions(entries, opts) {
      // Every entry is checked before the first call, so bad input changes nothing.
      const byArn = new Map<string, WriteRequest>();
      for (const entry of entries) byArn.set(entry.arn, { PutRequest: { Item: toItem(entry) } });
      const batches = chunk([...byArn.values()], WRITE_BATCH);
      await mapBounded(batches, cfg.concurrency, (batch) => writeBatch(batch, opts));
    },

    async recordHeartbeat(heartbeat, opts) {
      const item = heartbeatItem(heartbeat);
      try {
        await send(
          'heartbeat',
          'PutItem',
          (abortSignal) =>
            client.send(
              new PutItemCommand({
                TableName: tableName,
                Item: item,
                // Heartbeats may arrive out of order: an older one never replaces a newer one.
                ConditionExpression: 'attribute_not_exists(#pk) OR #ms < :ms',
                ExpressionAttributeNames: { '#pk': PK, '#ms': A.lastSeenMs },
                ExpressionAttributeValues: { ':ms': item[A.lastSeenMs]! },
              }),
              { abortSignal },
            ),
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
        if (page > cfg.maxPages) {
          throw new LedgerError('read', `more than ${cfg.maxPages} pages of heartbeats`);
        }
        const out = await send(
          'read',
          'Query',
          (abortSignal) =>
            client.send(
              new QueryCommand({
                TableName: tableName,
                KeyConditionExpression: '#pk = :pk',
                // TTL deletes lazily: older items may still be there.
                FilterExpression: '#ms >= :since',
                ExpressionAttributeNames: { '#pk': PK, '#ms': A.lastSeenMs },
                ExpressionAttributeValues: { ':pk': { S: HEARTBEAT_PK }, ':since': { N: String(sinceMs) } },
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
              { abortSignal },
            ),
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

function toItem(entry: LedgerEntry): Item {
  if (typeof entry.arn !== 'string' || !entry.arn.startsWith('arn:')) {
    throw new LedgerError('write', 'a ledger entry needs a key ARN');
  }
  if (!OUTCOME_SET.has(entry.decision)) {
    throw new LedgerError('write', `a ledger entry has an unknown decision for ${entry.arn}`);
  }
  const item: Item = {
    [PK]: { S: decisionPk(entry.arn) },
    [SK]: { S: DECISION_SK },
    [A.type]: { S: 'decision' },
    [A.arn]: { S: entry.arn },
    [A.deletionDate]: { S: entry.deletionDate },
    [A.decision]: { S: entry.decision },
    [A.reason]: { S: entry.reason.slice(0, 500) },
    [A.source]: { S: entry.source },
    [A.eventId]: { S: entry.eventId },
    [A.decidedAt]: { S: entry.decidedAt },
    [A.notified]: { L: entry.notified.map((o) => ({ S: o })) },
    [TTL]: { N: String(decisionExpiry(entry.deletionDate)) },
  };
  if (entry.actor !== undefined) item[A.actor] = { S: entry.actor };
  if (entry.lastChanceAt !== undefined) item[A.lastChanceAt] = { S: entry.lastChanceAt };
  return item;
}

function toEntry(item: Item): LedgerEntry | undefined {
  const s = (name: string) => item[name]?.S;
  const arn = s(A.arn);
  const deletionDate = s(A.deletionDate);
  const decision = s(A.decision);
  const source = s(A.source);
  const eventId = s(A.eventId);
  const decidedAt = s(A.decidedAt);
  if (!arn || !deletionDate || !decision || !OUTCOME_SET.has(decision) || !eventId || !decidedAt)
    return undefined;
  if (source !== 'event' && source !== 'sweep') return undefined;
  const notified = (item[A.notified]?.L ?? [])
    .map((v) => v.S)
    .filter((o): o is Outcome => o !== undefined && OUTCOME_SET.has(o));
  const actor = s(A.actor);
  const lastChanceAt = s(A.lastChanceAt);
  return {
    arn,
    deletionDate,
    decision: decision as Outcome,
    reason: s(A.reason) ?? '',
    source,
    eventId,
    ...(actor === undefined ? {} : { actor }),
    decidedAt,
    notified,
    ...(lastChanceAt === undefined ? {} : { lastChanceAt }),
  };
}

function heartbeatItem(heartbeat: Heartbeat): Item {
  if (!ACCOUNT.test(heartbeat.account)) {
    throw new LedgerError('heartbeat', 'a heartbeat account must be a 12-digit account id');
  }
  if (!REGION.test(heartbeat.region)) {
    throw new LedgerError('heartbeat', 'a heartbeat region must be a Region name such as eu-west-1');
  }
  const ms = Date.parse(heartbeat.time);
  const expires = heartbeatExpiry(heartbeat.time);
  return {
    [PK]: { S: HEARTBEAT_PK },
    [SK]: { S: heartbeatSk(heartbeat.account, heartbeat.region) },
    [A.type]: { S: 'heartbeat' },
    [A.account]: { S: heartbeat.account },
    [A.region]: { S: heartbeat.region },
    [A.lastSeen]: { S: new Date(ms).toISOString() },
    [A.lastSeenMs]: { N: String(ms) },
    [TTL]: { N: String(expires) },
  };
}

function toHeartbeat(item: Item): Heartbeat | undefined {
  const account = item[A.account]?.S;
  const region = item[A.region]?.S;
  const time = item[A.lastSeen]?.S;
  return account && region && time ? { account, region, time } : undefined;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
