import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoLedger } from '../../../functions/adapters/ledger-dynamodb.ts';
import type { LedgerEntry } from '../../../functions/domain/ledger.ts';
import { LEDGER_ITEM_ACTIONS } from '../../../functions/shared/ledger-schema.ts';

const TABLE = 'ledger';
const ddb = mockClient(DynamoDBClient);
const sleeps: number[] = [];

function entry(i: number): LedgerEntry {
  return {
    arn: `arn:aws:kms:eu-west-1:111122223333:key/k-${i}`,
    deletionDate: '2025-06-20T12:00:00.000Z',
    decision: 'allowed',
    reason: 'allowed principal',
    source: 'event',
    eventId: `e-${i}`,
    decidedAt: '2025-06-01T12:00:00.000Z',
    notified: ['allowed'],
  };
}

function make(options: { maxAttempts?: number } = {}) {
  return createDynamoLedger({
    client: new DynamoDBClient({ region: 'us-east-1' }),
    tableName: TABLE,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
}

beforeEach(() => {
  ddb.reset();
  sleeps.length = 0;
});

describe('DynamoDB ledger: unprocessed work', () => {
  it('retries UnprocessedItems after a backoff until every item is written', async () => {
    const entries = Array.from({ length: 3 }, (_, i) => entry(i));
    ddb
      .on(BatchWriteItemCommand)
      .callsFakeOnce((input: { RequestItems: Record<string, WriteRequest[]> }) => ({
        UnprocessedItems: { [TABLE]: input.RequestItems[TABLE]!.slice(1) },
      }))
      .resolves({});
    await make().recordDecisions(entries);
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 2);
    const second = ddb.commandCalls(BatchWriteItemCommand)[1]!.args[0].input.RequestItems![TABLE]!;
    expect(second.map((w) => w.PutRequest?.Item?.arn?.S)).toEqual([entries[1]!.arn, entries[2]!.arn]);
    expect(sleeps).toHaveLength(1);
  });

  it('retries UnprocessedKeys of a read and returns every entry', async () => {
    const [a, b] = [entry(1), entry(2)];
    const item = (e: LedgerEntry) => ({
      arn: { S: e.arn },
      deletionDate: { S: e.deletionDate },
      decision: { S: e.decision },
      reason: { S: e.reason },
      source: { S: e.source },
      eventId: { S: e.eventId },
      decidedAt: { S: e.decidedAt },
      notified: { L: [{ S: 'allowed' }] },
    });
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item(a)] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: { S: `KEY#${b.arn}` }, sk: { S: 'SCHEDULE' } }] } },
      })
      .resolves({ Responses: { [TABLE]: [item(b)] } });
    const read = await make().readDecisions([a.arn, b.arn]);
    expect([...read.values()]).toEqual([a, b]);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetItemCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(BatchGetItemCommand, 2, {
      RequestItems: {
        [TABLE]: { Keys: [{ pk: { S: `KEY#${b.arn}` }, sk: { S: 'SCHEDULE' } }], ConsistentRead: true },
      },
    });
  });

  it('writes each text field of an entry as a string attribute, and no attribute for one left undefined', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const bare = entry(1);
    const full = {
      ...entry(2),
      actor: 'arn:aws:iam::111122223333:role/Decom',
      lastChanceAt: '2025-06-19T13:00:00.000Z',
    };
    await make().recordDecisions([bare, full]);
    const [first, second] = ddb
      .commandCalls(BatchWriteItemCommand)[0]!
      .args[0].input.RequestItems![TABLE]!.map((w) => w.PutRequest!.Item!);
    expect(first).toEqual({
      pk: { S: `KEY#${bare.arn}` },
      sk: { S: 'SCHEDULE' },
      type: { S: 'decision' },
      arn: { S: bare.arn },
      deletionDate: { S: bare.deletionDate },
      decision: { S: 'allowed' },
      reason: { S: 'allowed principal' },
      source: { S: 'event' },
      eventId: { S: 'e-1' },
      decidedAt: { S: bare.decidedAt },
      notified: { L: [{ S: 'allowed' }] },
      expiresAt: { N: String(Date.parse(bare.deletionDate) / 1000 + 7 * 86_400) },
    });
    expect(Object.keys(first!)).not.toContain('actor');
    expect(Object.keys(first!)).not.toContain('lastChanceAt');
    expect(second).toMatchObject({ actor: { S: full.actor }, lastChanceAt: { S: full.lastChanceAt } });
  });

  it('gives up with a LedgerError after a bounded number of calls, backing off longer each time', async () => {
    ddb.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    await expect(make({ maxAttempts: 4 }).recordDecisions([entry(1)])).rejects.toMatchObject({
      name: 'LedgerError',
      operation: 'write',
      message: '1 ledger item(s) still unprocessed after 4 calls',
    });
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 4);
    expect(sleeps).toHaveLength(3);
    // 50 ms doubling per retry, jitter in [0.5, 1): the third wait is at least 50 * 4 * 0.5 ms.
    expect(sleeps[2]!).toBeGreaterThanOrEqual(100);
  });

  it('treats an older heartbeat refused by the condition as recorded', async () => {
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    await expect(
      make().recordHeartbeat({ account: '111122223333', region: 'eu-west-1', time: '2025-06-01T10:00:00Z' }),
    ).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(#pk) OR #ms < :ms',
      ExpressionAttributeValues: { ':ms': { N: String(Date.parse('2025-06-01T10:00:00Z')) } },
    });
  });

  it('uses only the commands whose actions the stack grants', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    ddb.on(BatchGetItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const ledger = make();
    await ledger.recordDecisions([entry(1)]);
    await ledger.readDecisions([entry(1).arn]);
    await ledger.recordHeartbeat({
      account: '111122223333',
      region: 'eu-west-1',
      time: '2025-06-01T10:00:00Z',
    });
    await ledger.readHeartbeats(0);
    const used = [
      ...new Set(ddb.calls().map((c) => `dynamodb:${c.args[0].constructor.name.replace(/Command$/, '')}`)),
    ];
    expect(used.sort()).toEqual([...LEDGER_ITEM_ACTIONS].sort());
  });
});
