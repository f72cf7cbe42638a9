import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoLedger } from '../../functions/adapters/ledger-dynamodb.ts';
import type { Ledger, LedgerEntry } from '../../functions/domain/ledger.ts';
import { coverageOf, currentEntry, LedgerError } from '../../functions/domain/ledger.ts';
import { LEDGER_ATTRIBUTE_DEFINITIONS, LEDGER_KEY_SCHEMA } from '../../functions/shared/ledger-schema.ts';
import type { LocalDynamoDb } from '../../local/aws/dynamodb.ts';
import { startLocalDynamoDb } from '../../local/aws/dynamodb.ts';
import { startSilentServer } from '../helpers/silent-server.ts';

const HOUR = 3_600_000;
const NOW = Date.parse('2025-06-01T12:00:00Z');

let db: LocalDynamoDb;
let client: DynamoDBClient;
let ledger: Ledger;
const calls: string[] = [];

function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

function entry(i: number, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  const hex = i.toString(16).padStart(12, '0');
  return {
    arn: `arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-${hex}`,
    deletionDate: new Date(NOW + 20 * 24 * HOUR + i * 1000).toISOString(),
    decision: i % 2 === 0 ? 'allowed' : 'detected',
    reason: `decision ${i}`,
    source: 'event',
    eventId: `event-${i}`,
    actor: 'arn:aws:iam::111122223333:role/Decom',
    decidedAt: new Date(NOW).toISOString(),
    notified: i % 2 === 0 ? ['allowed'] : ['detected'],
    ...(i % 3 === 0 ? { lastChanceAt: new Date(NOW).toISOString() } : {}),
    ...overrides,
  };
}

beforeAll(async () => {
  db = await startLocalDynamoDb();
  client = clientFor(db.endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  ledger = createDynamoLedger({ client, tableName: db.tableName, now: () => Date.now() });
});

afterAll(async () => {
  client?.destroy();
  await db?.close();
});

describe('local DynamoDB (dynalite)', () => {
  it('serves the ledger table with the keys the stack defines, on 127.0.0.1', async () => {
    expect(db.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const out = await client.send(new DescribeTableCommand({ TableName: db.tableName }));
    expect(out.Table?.TableStatus).toBe('ACTIVE');
    expect(out.Table?.KeySchema).toEqual(LEDGER_KEY_SCHEMA);
    expect(out.Table?.AttributeDefinitions).toEqual(LEDGER_ATTRIBUTE_DEFINITIONS);
    expect(out.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('DynamoDB ledger against dynalite', () => {
  it('writes and reads back 2,500 entries in ceil(n/25) writes and ceil(n/100) reads', async () => {
    const entries = Array.from({ length: 2_500 }, (_, i) => entry(i));
    calls.length = 0;
    await ledger.recordDecisions(entries);
    const writes = calls.filter((c) => c === 'BatchWriteItemCommand').length;
    expect(writes).toBeLessThanOrEqual(Math.ceil(2_500 / 25));
    expect(calls.every((c) => c === 'BatchWriteItemCommand')).toBe(true);

    calls.length = 0;
    const arns = [...entries.map((e) => e.arn), 'arn:aws:kms:eu-west-1:111122223333:key/never-seen'];
    const read = await ledger.readDecisions(arns);
    expect(calls.filter((c) => c === 'BatchGetItemCommand').length).toBeLessThanOrEqual(
      Math.ceil(2_501 / 100),
    );
    expect(calls.every((c) => c === 'BatchGetItemCommand')).toBe(true);
    expect(read.size).toBe(2_500);
    for (const e of [entries[0]!, entries[1]!, entries[2_499]!]) expect(read.get(e.arn)).toEqual(e);
    console.info(`2,500 entries: ${writes} BatchWriteItem, ${calls.length} BatchGetItem calls`);
  });

  it('reads a key named twice once, and an empty list with no call', async () => {
    const e = entry(9_001);
    await ledger.recordDecisions([e]);
    calls.length = 0;
    expect((await ledger.readDecisions([e.arn, e.arn])).get(e.arn)).toEqual(e);
    expect(await ledger.readDecisions([])).toEqual(new Map());
    expect(calls).toEqual(['BatchGetItemCommand']);
  });

  it('keeps one item per key: a new schedule replaces the old, and the 24 h rule tells them apart', async () => {
    const first = entry(9_002, { deletionDate: '2025-06-20T12:00:00.000Z', decision: 'allowed' });
    await ledger.recordDecisions([first]);
    const stored = (await ledger.readDecisions([first.arn])).get(first.arn);
    expect(currentEntry(stored, '2025-06-21T06:00:00.000Z', NOW)).toEqual(first);
    expect(currentEntry(stored, '2025-07-01T12:00:00.000Z', NOW)).toBeUndefined();

    const second = {
      ...first,
      deletionDate: '2025-07-01T12:00:00.000Z',
      decision: 'cancelled' as const,
      eventId: 'e2',
    };
    await ledger.recordDecisions([second]);
    const after = (await ledger.readDecisions([first.arn])).get(first.arn);
    expect(after).toEqual(second);
    expect(currentEntry(after, '2025-06-20T12:00:00.000Z', NOW)).toBeUndefined();
  });

  it('writes the last of two entries for one key in one call', async () => {
    const a = entry(9_003, { decision: 'detected' });
    const b = entry(9_003, { decision: 'cancelled', notified: ['cancelled'] });
    await ledger.recordDecisions([a, b]);
    expect((await ledger.readDecisions([a.arn])).get(a.arn)?.decision).toBe('cancelled');
  });

  it('refuses an entry with an unreadable deletion date before writing anything', async () => {
    const good = entry(9_004);
    calls.length = 0;
    await expect(ledger.recordDecisions([good, entry(9_005, { deletionDate: 'soon' })])).rejects.toThrow(
      /readable deletion date/,
    );
    expect(calls).toEqual([]);
    expect((await ledger.readDecisions([good.arn])).size).toBe(0);
  });

  it('records heartbeats, keeps the newest when they arrive out of order, and reads them in one Query', async () => {
    const t = (agoMs: number) => new Date(Date.now() - agoMs).toISOString();
    await ledger.recordHeartbeat({ account: '111122223333', region: 'eu-west-1', time: t(3 * HOUR) });
    await ledger.recordHeartbeat({ account: '111122223333', region: 'us-east-1', time: t(HOUR) });
    await ledger.recordHeartbeat({ account: '444455556666', region: 'eu-west-1', time: t(10 * 60_000) });
    await ledger.recordHeartbeat({ account: '444455556666', region: 'eu-west-1', time: t(5 * HOUR) });
    await ledger.recordHeartbeat({ account: '777788889999', region: 'ap-south-1', time: t(8 * 24 * HOUR) });
    calls.length = 0;
    const since = Date.now() - 7 * 24 * HOUR;
    const heartbeats = await ledger.readHeartbeats(since);
    expect(calls).toEqual(['QueryCommand']);
    expect(heartbeats.map((h) => `${h.account} ${h.region}`).sort()).toEqual([
      '111122223333 eu-west-1',
      '111122223333 us-east-1',
      '444455556666 eu-west-1',
    ]);
    const coverage = coverageOf(heartbeats, Date.now());
    expect(coverage.expected).toBe(3);
    expect(coverage.silent.map((s) => `${s.account} ${s.region}`)).toEqual(['111122223333 eu-west-1']);
  });

  it('refuses a heartbeat with a malformed account, naming it, and writes nothing', async () => {
    calls.length = 0;
    await expect(
      ledger.recordHeartbeat({ account: '1234', region: 'eu-west-1', time: new Date().toISOString() }),
    ).rejects.toThrow(/12-digit account id/);
    expect(calls).toEqual([]);
  });

  it('fails with a LedgerError, within its deadline, when DynamoDB is not there', async () => {
    const gone = await startLocalDynamoDb();
    const goneClient = clientFor(gone.endpoint);
    await gone.close();
    const lost = createDynamoLedger({ client: goneClient, tableName: gone.tableName, callTimeoutMs: 2000 });
    try {
      await expect(lost.readDecisions([entry(1).arn])).rejects.toBeInstanceOf(LedgerError);
      await expect(lost.recordDecisions([entry(1)])).rejects.toMatchObject({
        name: 'LedgerError',
        operation: 'write',
      });
      await expect(
        lost.recordHeartbeat({
          account: '111122223333',
          region: 'eu-west-1',
          time: new Date().toISOString(),
        }),
      ).rejects.toMatchObject({
        operation: 'heartbeat',
        message: expect.stringMatching(/DynamoDB PutItem failed/),
      });
      await expect(lost.readHeartbeats(0)).rejects.toBeInstanceOf(LedgerError);
    } finally {
      goneClient.destroy();
    }
  });

  it('ends a call DynamoDB never answers at the call timeout, with a LedgerError', async () => {
    const silent = await startSilentServer();
    const silentClient = clientFor(silent.url);
    const stuck = createDynamoLedger({ client: silentClient, tableName: 'silent', callTimeoutMs: 300 });
    try {
      await expect(stuck.readDecisions([entry(1).arn])).rejects.toMatchObject({
        name: 'LedgerError',
        operation: 'read',
      });
      expect(silent.held.length).toBeGreaterThan(0);
    } finally {
      silentClient.destroy();
      await silent.close();
    }
  });

  it('does not start a call once the deadline has passed', async () => {
    calls.length = 0;
    await expect(ledger.readDecisions([entry(1).arn], { deadline: Date.now() - 1 })).rejects.toThrow(
      /time budget is spent/,
    );
    expect(calls).toEqual([]);
  });
});
