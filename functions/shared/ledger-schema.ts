/**
 * The ledger table (contract section 7), in one pure module read by the CDK construct, by the DynamoDB
 * adapter and by the local/test table creation, so all three agree on keys and item layout.
 *
 * Design, for the two questions the ledger answers:
 * - "What did we decide and notify for this key and this deletion schedule?": one item per key,
 *   pk `KEY#<arn>`, sk `SCHEDULE`, holding the current schedule's deletion date. A key has at most one
 *   pending schedule at a time, and "same schedule" means "deletion dates less than 24 h apart", which
 *   no exact key can express: a sort key per date (or per day) would need a Query per key, or up to
 *   three guessed day keys per key, and would still split a schedule at midnight. With one item per
 *   key a sweep reads n keys with ceil(n/100) BatchGetItem calls, and the 24 h rule stays a pure
 *   function (`currentEntry`). A new schedule overwrites the old item (a new schedule is a new
 *   decision); the history of earlier schedules is in the audit log.
 * - "When did each (account, Region) last send a heartbeat?": pk `HEARTBEAT`, sk `<account>#<region>`:
 *   one Query (a page per ~10,000 pairs) answers it for the whole organization. At one heartbeat per
 *   pair per hour the single partition sees a few writes a second at most, far below its limits.
 * Both kinds expire through TTL (`expiresAt`, epoch seconds): a week after the deletion date, or after
 * the heartbeat. No secondary index: neither question needs one.
 */

export const LEDGER_PARTITION_KEY = 'pk';
export const LEDGER_SORT_KEY = 'sk';
/** Epoch seconds; DynamoDB deletes the item some time after it passes. */
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** Key attributes: both strings. */
export const LEDGER_KEY_SCHEMA = [
  { AttributeName: LEDGER_PARTITION_KEY, KeyType: 'HASH' },
  { AttributeName: LEDGER_SORT_KEY, KeyType: 'RANGE' },
] as const;

export const LEDGER_ATTRIBUTE_DEFINITIONS = [
  { AttributeName: LEDGER_PARTITION_KEY, AttributeType: 'S' },
  { AttributeName: LEDGER_SORT_KEY, AttributeType: 'S' },
] as const;

/** On-demand: a sweep's burst of writes needs no capacity planning, and an idle hour costs nothing. */
export const LEDGER_BILLING_MODE = 'PAY_PER_REQUEST' as const;

/** The partition key of a key's decision item. */
export const decisionPk = (arn: string): string => `KEY#${arn}`;
/** The sort key of a key's current-schedule item. */
export const DECISION_SK = 'SCHEDULE';
/** The partition key shared by every heartbeat item. */
export const HEARTBEAT_PK = 'HEARTBEAT';
/** The sort key of one (account, Region) pair's heartbeat item. */
export const heartbeatSk = (account: string, region: string): string => `${account}#${region}`;

/** The CreateTable input for a local or test table, as the stack defines the table (TTL is set apart). */
export function ledgerCreateTableInput(tableName: string) {
  return {
    TableName: tableName,
    KeySchema: LEDGER_KEY_SCHEMA.map((k) => ({ ...k })),
    AttributeDefinitions: LEDGER_ATTRIBUTE_DEFINITIONS.map((a) => ({ ...a })),
    BillingMode: LEDGER_BILLING_MODE,
  };
}

/**
 * The item actions the DynamoDB adapter calls, and all the remediation function is granted:
 * BatchGetItem (read decisions), BatchWriteItem (record decisions), PutItem (a heartbeat, conditional),
 * Query (every pair's heartbeat).
 */
export const LEDGER_ITEM_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
] as const;
