import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Heartbeat, LedgerEntry } from '../domain/ledger.ts';
import { decisionExpiry, heartbeatExpiry, LedgerError } from '../domain/ledger.ts';
import {
  DECISION_SK,
  decisionPk,
  HEARTBEAT_PK,
  heartbeatSk,
  LEDGER_PARTITION_KEY as PK,
  LEDGER_SORT_KEY as SK,
  LEDGER_TTL_ATTRIBUTE as TTL,
} from '../shared/ledger-schema.ts';
import type { Outcome } from '../shared/outcomes.ts';
import { OUTCOMES } from '../shared/outcomes.ts';
import { ACCOUNT_ID_PATTERN, REGION_NAME_PATTERN } from '../shared/settings.ts';

/**
 * The ledger's items marshalled by hand (see ledger-dynamodb.ts for why): domain entry and heartbeat to
 * DynamoDB item and back. Writing checks its input and throws a LedgerError; reading returns
 * `undefined` for an item it cannot read, so one bad item never hides the others.
 */

const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOMES);

/**
 * The heartbeat's time in epoch ms, the attribute the adapter's condition and filter compare. The other
 * attributes are named as the entry's fields, plus `type` (`decision` or `heartbeat`, for a person
 * reading the table) and the heartbeat's ISO 8601 `lastSeen`.
 */
export const LAST_SEEN_MS = 'lastSeenMs';

/**
 * The entry's fields stored as string attributes of the same name, as they are (`reason` is clipped and
 * `notified` is a list); an undefined one (`actor`, `lastChanceAt`) is not stored.
 */
const TEXT_FIELDS = [
  'arn',
  'deletionDate',
  'decision',
  'source',
  'eventId',
  'actor',
  'decidedAt',
  'lastChanceAt',
] as const satisfies readonly (keyof LedgerEntry)[];

/** A DynamoDB item in the low-level client's attribute-value form. */
export type Item = Record<string, AttributeValue>;

/** The primary key of the decision item for a key ARN. */
export function decisionKey(arn: string): Item {
  return { [PK]: { S: decisionPk(arn) }, [SK]: { S: DECISION_SK } };
}

/** The decision item for a ledger entry; throws a LedgerError for an entry that cannot be stored. */
export function toItem(entry: LedgerEntry): Item {
  if (typeof entry.arn !== 'string' || !entry.arn.startsWith('arn:')) {
    throw new LedgerError('write', 'a ledger entry needs a key ARN');
  }
  if (!OUTCOME_SET.has(entry.decision)) {
    throw new LedgerError('write', `a ledger entry has an unknown decision for ${entry.arn}`);
  }
  const item: Item = {
    ...decisionKey(entry.arn),
    type: { S: 'decision' },
    reason: { S: entry.reason.slice(0, 500) },
    notified: { L: entry.notified.map((o) => ({ S: o })) },
    [TTL]: { N: String(decisionExpiry(entry.deletionDate)) },
  };
  for (const field of TEXT_FIELDS) {
    const value = entry[field];
    if (value !== undefined) item[field] = { S: value };
  }
  return item;
}

/** The ledger entry an item holds, or `undefined` when it is not a readable decision item. */
export function toEntry(item: Item): LedgerEntry | undefined {
  const s = (name: string) => item[name]?.S;
  const arn = s('arn');
  const deletionDate = s('deletionDate');
  const decision = s('decision');
  const source = s('source');
  const eventId = s('eventId');
  const decidedAt = s('decidedAt');
  if (!arn || !deletionDate || !decision || !OUTCOME_SET.has(decision) || !eventId || !decidedAt)
    return undefined;
  if (source !== 'event' && source !== 'sweep') return undefined;
  const notified = (item.notified?.L ?? [])
    .map((v) => v.S)
    .filter((o): o is Outcome => o !== undefined && OUTCOME_SET.has(o));
  return {
    arn,
    deletionDate,
    decision: decision as Outcome,
    reason: s('reason') ?? '',
    source,
    eventId,
    actor: s('actor'),
    decidedAt,
    notified,
    lastChanceAt: s('lastChanceAt'),
  };
}

/** The heartbeat item for an (account, Region); throws a LedgerError for a malformed heartbeat. */
export function heartbeatItem(heartbeat: Heartbeat): Item {
  if (!ACCOUNT_ID_PATTERN.test(heartbeat.account)) {
    throw new LedgerError('heartbeat', 'a heartbeat account must be a 12-digit account id');
  }
  if (!REGION_NAME_PATTERN.test(heartbeat.region)) {
    throw new LedgerError('heartbeat', 'a heartbeat region must be a Region name such as eu-west-1');
  }
  const ms = Date.parse(heartbeat.time);
  const expires = heartbeatExpiry(heartbeat.time);
  return {
    [PK]: { S: HEARTBEAT_PK },
    [SK]: { S: heartbeatSk(heartbeat.account, heartbeat.region) },
    type: { S: 'heartbeat' },
    account: { S: heartbeat.account },
    region: { S: heartbeat.region },
    lastSeen: { S: new Date(ms).toISOString() },
    [LAST_SEEN_MS]: { N: String(ms) },
    [TTL]: { N: String(expires) },
  };
}

/** The heartbeat an item holds, or `undefined` when a field is missing. */
export function toHeartbeat(item: Item): Heartbeat | undefined {
  const account = item.account?.S;
  const region = item.region?.S;
  const time = item.lastSeen?.S;
  return account && region && time ? { account, region, time } : undefined;
}
