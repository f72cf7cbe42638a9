import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CountingDynamo, startCountingDynamo } from '../../bench/ledger.ts';
import { createDynamoLedger } from '../../functions/adapters/ledger-dynamodb.ts';
import { ledgerCreateTableInput } from '../../functions/shared/ledger-schema.ts';
import { type AwsStandIns, startAwsStandIns } from '../../local/aws/index.ts';
import type { FunctionHost } from '../../local/function-host.ts';
import {
  defaultSeed,
  generatePendingKeys,
  generateSimulatorTls,
  SEED_KEYS,
  type SeedKey,
  type Simulator,
  type SimulatorTls,
  startSimulator,
} from '../../local/simulator/index.ts';
import {
  buildTestBundle,
  guardEnv,
  hostFunction,
  putRefreshSecret,
  sampleEvent,
  stopAll,
} from '../helpers/local-bundles.ts';

/*
 * The ledger (contract sections 4 and 7) end to end: the real remediate-deletion bundle against the
 * CipherTrust Manager simulator over HTTPS, the SNS stand-in and a real DynamoDB implementation
 * (dynalite) holding the table as the stack defines it, whose calls are counted by operation.
 */

interface Outcome {
  outcome: string;
  reason: string;
  key: { cckmId?: string; arn?: string };
}
interface Result {
  kind: string;
  outcomes: Outcome[];
  summary: Record<string, number>;
  coverage?: { expected: number; silent: { account: string; region: string; lastSeen: string }[] };
}
interface DigestItem {
  type: string;
  outcome?: string;
  lastChance?: boolean;
  account?: string;
}

const TABLE = 'cckm-deletion-guard-ledger';
const HOUR = 3_600_000;
const DEV_ROLE = 'arn:aws:iam::111122223333:role/Dev';
const CANCEL = '/api/v1/cckm/aws/keys/*/cancel-deletion';

let tls: SimulatorTls;
let aws: AwsStandIns;
let bundle: string;
let topicArn: string;
const hosts: FunctionHost[] = [];
const services: { close(): Promise<void> }[] = [];
let output: string[] = [];

interface Stage {
  readonly sim: Simulator;
  readonly dynamo: CountingDynamo;
  readonly fn: FunctionHost;
}

/** A simulator seeded with `keys`, an empty ledger table in a counting dynalite, and a container. */
async function stage(keys: readonly SeedKey[], env: Record<string, string> = {}): Promise<Stage> {
  const sim = await startSimulator({ tls, seed: { keys, users: defaultSeed().users } });
  services.push(sim);
  const dynamo = await startCountingDynamo();
  services.push(dynamo);
  const client = localClient(dynamo.endpoint);
  await client.send(new CreateTableCommand(ledgerCreateTableInput(TABLE)));
  client.destroy();
  dynamo.reset();
  putRefreshSecret(aws, sim);
  const fn = await hostFunction(
    hosts,
    bundle,
    'remediate-deletion',
    {
      ...guardEnv(sim, aws),
      NOTIFY_TOPIC_ARN: topicArn,
      LEDGER_TABLE: TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      POWERTOOLS_METRICS_NAMESPACE: 'CckmDeletionGuard',
      ...env,
    },
    (chunk) => output.push(chunk),
  );
  return { sim, dynamo, fn };
}

function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

const sweepEvent = (): Record<string, unknown> => ({
  ...sampleEvent('sweep'),
  time: new Date().toISOString(),
});

/** The sample ScheduleKeyDeletion of `ledger` by role Dev, made now, with the deletion date AWS gave it. */
function scheduleEvent(sim: Simulator): Record<string, unknown> {
  const event = sampleEvent('schedule-key-deletion');
  const now = new Date().toISOString();
  const detail = event.detail as Record<string, unknown>;
  const truth = sim.keys.aws(sim.keys.byName('ledger').id);
  event.time = now;
  detail.eventTime = now;
  detail.responseElements = {
    ...(detail.responseElements as Record<string, unknown>),
    deletionDate: truth?.DeletionDate,
  };
  return event;
}

const digestItems = (message: string): DigestItem[] => (JSON.parse(message) as { items: DigestItem[] }).items;

/** Values of an EMF metric written by the function since `from` (index into output). */
function emf(name: string, from = 0): number[] {
  return output
    .slice(from)
    .join('')
    .split('\n')
    .flatMap((line) => {
      if (!line.includes('"_aws"') || !line.includes(`"${name}"`)) return [];
      const value = (JSON.parse(line) as Record<string, unknown>)[name];
      return typeof value === 'number' ? [value] : [];
    });
}

const ledgerKey = (): SeedKey => SEED_KEYS.find((k) => k.name === 'ledger')!;

describe('the ledger, with the real bundle, the simulator and dynalite', () => {
  beforeAll(async () => {
    tls = await generateSimulatorTls();
    aws = await startAwsStandIns();
    topicArn = aws.sns.createTopic('deletion-guard');
    bundle = await buildTestBundle('remediate-deletion');
  }, 60_000);

  afterEach(() => {
    aws.reset();
    output = [];
  });

  afterAll(() => stopAll(hosts, aws, ...services));

  it('lets an allowed deletion survive three sweeps with no cancel and one notification', async () => {
    const { sim, fn } = await stage([ledgerKey()], { ALLOWED_PRINCIPALS: DEV_ROLE });
    const first = await fn.invoke<Result>(scheduleEvent(sim));
    expect(first.outcomes.map((o) => o.outcome)).toEqual(['allowed']);
    for (let i = 0; i < 3; i++) {
      const swept = await fn.invoke<Result>(sweepEvent());
      expect(swept.summary).toEqual({ allowed: 1 });
      expect(swept.outcomes[0]?.reason).toContain('assumed-role/Dev/bob');
      expect(swept.outcomes[0]?.reason).toMatch(/honoured until the deletion date \d{4}-/);
    }
    expect(sim.requestsTo(CANCEL)).toHaveLength(0);
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('PendingDeletion');
    expect(aws.sns.messages).toHaveLength(1);
    expect(JSON.parse(aws.sns.messages[0]!.message)).toMatchObject({ outcome: 'allowed' });
  });

  it('notifies each key once over three detect-mode sweeps, with about n/100 reads and n/25 writes', async () => {
    const { fn, dynamo } = await stage(generatePendingKeys(3, { prefix: 'detect' }), { MODE: 'detect' });
    for (let i = 0; i < 3; i++) {
      expect((await fn.invoke<Result>(sweepEvent())).summary).toEqual({ detected: 3 });
    }
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]!.subject).toBe('CCKM Deletion Guard sweep (detect mode): 3 detected');
    expect(digestItems(aws.sns.messages[0]!.message).map((i) => i.outcome)).toEqual([
      'detected',
      'detected',
      'detected',
    ]);
    // Per sweep one BatchGetItem and one heartbeat Query; one BatchWriteItem, in the sweep that notified.
    expect(dynamo.calls()).toEqual({ BatchGetItem: 3, Query: 3, BatchWriteItem: 1 });
  });

  it('sends one last-chance line for a key 23 hours from its deletion', async () => {
    const [soon, later] = generatePendingKeys(2, { prefix: 'soon' });
    const keys = [
      { ...soon!, pendingWindowInDays: 23 / 24 },
      { ...later!, pendingWindowInDays: 10 },
    ];
    const { fn } = await stage(keys, { MODE: 'detect' });
    for (let i = 0; i < 3; i++) await fn.invoke<Result>(sweepEvent());
    const lines = aws.sns.messages.flatMap((m) => digestItems(m.message)).filter((i) => i.lastChance);
    expect(lines).toHaveLength(1);
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]!.subject).toContain('1 last-chance');
  });

  it('sends one digest under 256 KB for a 2,000-key sweep, in batched ledger calls', async () => {
    const { fn, dynamo } = await stage(generatePendingKeys(2000, { prefix: 'mass' }));
    const result = await fn.invoke<Result>(sweepEvent());
    expect(result.summary).toEqual({ cancelled: 2000 });
    expect(aws.sns.messages).toHaveLength(1);
    const [digest] = aws.sns.messages;
    expect(Buffer.byteLength(digest!.message, 'utf8')).toBeLessThan(256 * 1024);
    expect(digest!.subject).toBe('CCKM Deletion Guard sweep: 2000 cancelled');
    expect(JSON.parse(digest!.message)).toMatchObject({ counts: { cancelled: 2000 }, more: 1950 });
    expect(digestItems(digest!.message)).toHaveLength(50);
    expect(dynamo.calls()).toEqual({ BatchGetItem: 20, Query: 1, BatchWriteItem: 80 });
  }, 180_000);

  it('reports a pair whose heartbeat stopped 3 hours ago as silent, and not one that never sent', async () => {
    const { fn, dynamo } = await stage([]);
    const client = localClient(dynamo.endpoint);
    const ledger = createDynamoLedger({ client, tableName: TABLE });
    const now = Date.now();
    await ledger.recordHeartbeat({
      account: '444455556666',
      region: 'eu-west-1',
      time: new Date(now - 3 * HOUR).toISOString(),
    });
    await ledger.recordHeartbeat({
      account: '777788889999',
      region: 'ap-south-1',
      time: new Date(now - 10 * 60_000).toISOString(),
    });
    client.destroy();
    const result = await fn.invoke<Result>(sweepEvent());
    expect(result.coverage).toEqual({
      expected: 2,
      silent: [
        {
          account: '444455556666',
          region: 'eu-west-1',
          lastSeen: new Date(now - 3 * HOUR).toISOString(),
          silentForMinutes: expect.any(Number),
        },
      ],
    });
    // 111122223333 never sent a heartbeat: not expected, not silent.
    expect(result.coverage?.silent.map((s) => s.account)).not.toContain('111122223333');
    expect(emf('SilentSpokes')).toEqual([1]);
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]!.subject).toBe('CCKM Deletion Guard sweep: 1 silent spoke');
    expect(digestItems(aws.sns.messages[0]!.message)).toEqual([
      expect.objectContaining({ type: 'silent-spoke', account: '444455556666' }),
    ]);
  });

  it('still cancels a scheduled key with dynalite stopped, says so in the reason and counts LedgerErrors', async () => {
    const { sim, fn, dynamo } = await stage([ledgerKey()], { ALLOWED_PRINCIPALS: DEV_ROLE });
    expect((await fn.invoke<Result>(scheduleEvent(sim))).summary).toEqual({ allowed: 1 });
    await dynamo.close();
    const result = await fn.invoke<Result>(sweepEvent());
    expect(result.summary).toEqual({ cancelled: 1 });
    expect(result.outcomes[0]?.reason).toContain('ledger unreadable: decided as if nothing was remembered');
    expect(sim.keys.aws(sim.keys.byName('ledger').id)?.KeyState).toBe('Disabled');
    // The decisions read, the heartbeat read and the write-back each failed once.
    expect(emf('LedgerErrors')).toEqual([1, 1, 1]);
    expect(output.join('')).toContain('reading the ledger failed');
  }, 60_000);
});
