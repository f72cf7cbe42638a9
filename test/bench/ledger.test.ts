import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { type CountingDynamo, startCountingDynamo, startSweepLedger } from '../../bench/ledger.ts';

/** The bench's ledger hook: a real dynalite on 127.0.0.1 whose calls are counted by operation. */

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

async function createTable(endpoint: string): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await client.send(
    new CreateTableCommand({
      TableName: 'ledger',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  client.destroy();
  return 'ledger';
}

describe('bench ledger', () => {
  let dynamo: CountingDynamo | undefined;
  afterEach(async () => {
    await dynamo?.close();
    dynamo = undefined;
  });

  it('counts the calls the SDK makes by DynamoDB operation', async () => {
    dynamo = await startCountingDynamo();
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await createTable(dynamo.endpoint);
    dynamo.reset();
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    await client.send(new PutItemCommand({ TableName: 'ledger', Item: { pk: { S: 'a' } } }));
    for (let i = 0; i < 2; i++) {
      const got = await client.send(
        new BatchGetItemCommand({ RequestItems: { ledger: { Keys: [{ pk: { S: 'a' } }] } } }),
      );
      expect(got.Responses?.ledger).toHaveLength(1);
    }
    client.destroy();
    expect(dynamo.calls()).toEqual({ PutItem: 1, BatchGetItem: 2 });
  });

  it('gives a sweep no ledger when told to run without one', async () => {
    expect(await startSweepLedger(null)).toBeUndefined();
  });

  it('gives every sweep the ledger table as the stack defines it, by default', async () => {
    const ledger = await startSweepLedger();
    dynamo = ledger?.dynamo;
    expect(ledger?.env).toEqual({
      LEDGER_TABLE: 'cckm-deletion-guard-ledger',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo?.endpoint,
    });
    const client = new DynamoDBClient({ endpoint: dynamo!.endpoint, region: 'us-east-1', credentials });
    await client.send(
      new PutItemCommand({
        TableName: 'cckm-deletion-guard-ledger',
        Item: { pk: { S: 'KEY#arn' }, sk: { S: 'SCHEDULE' } },
      }),
    );
    client.destroy();
    expect(dynamo?.calls()).toEqual({ PutItem: 1 });
  });

  it('gives a sweep the table and endpoint, with the setup calls not counted', async () => {
    const ledger = await startSweepLedger(createTable);
    dynamo = ledger?.dynamo;
    expect(ledger?.env).toEqual({ LEDGER_TABLE: 'ledger', AWS_ENDPOINT_URL_DYNAMODB: dynamo?.endpoint });
    expect(dynamo?.calls()).toEqual({});
  });
});
