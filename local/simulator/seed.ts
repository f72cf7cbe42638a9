import { randomBytes } from 'node:crypto';
import { type SeedKey, stableUuid } from './store.ts';

/** A CipherTrust Manager user the guard can log in as. */
export interface SeedUser {
  readonly username: string;
  readonly password: string;
  /** Refresh tokens issued to this user before the simulator started (e.g. stored in the secret). */
  readonly refreshTokens: readonly string[];
}

/** The inventory and users a simulator starts with (and returns to on `reset()`). */
export interface Seed {
  readonly keys: readonly SeedKey[];
  readonly users: readonly SeedUser[];
}

/** Accounts of the seeded inventory. */
export const ACCOUNTS = { prod: '111122223333', dev: '444455556666', shared: '777788889999' } as const;

/** KeyId of the multi-Region key: the AWS documentation's sample, present in three Regions. */
export const MRK_KEY_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';

const keyIdOf = (name: string): string => stableUuid(`aws-key:${name}`);

/**
 * The seeded keys. Handles (`name`) are stable and used by tests, sample events and the banner.
 * Chosen so every decision path has a key: plain pending, stale cache, multi-Region primary and
 * replica, exempt tag, not pending, duplicate registration, and a key CCKM does not manage.
 */
export const SEED_KEYS: readonly SeedKey[] = [
  {
    name: 'payments',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-east-1',
    keyId: keyIdOf('payments'),
    state: 'PendingDeletion',
    pendingWindowInDays: 7,
    aliases: ['alias/payments'],
    tags: { env: 'prod', owner: 'payments-team' },
  },
  {
    // The AWS documentation's sample key, so aws-events.md's sample event resolves to it.
    name: 'ledger',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-west-2',
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    state: 'PendingDeletion',
    pendingWindowInDays: 20,
    aliases: ['alias/ledger'],
    tags: { env: 'prod', 'data-class': 'confidential' },
  },
  {
    // Scheduled directly in AWS: CCKM's copy still says Enabled until a refresh.
    name: 'orders',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-east-1',
    keyId: keyIdOf('orders'),
    state: 'PendingDeletion',
    pendingWindowInDays: 30,
    aliases: ['alias/orders'],
    tags: { env: 'prod' },
    staleCache: { KeyState: 'Enabled', Enabled: true },
  },
  {
    name: 'global-primary',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-west-2',
    keyId: MRK_KEY_ID,
    state: 'PendingReplicaDeletion',
    aliases: ['alias/global'],
    tags: { env: 'prod' },
    multiRegion: { type: 'PRIMARY', primaryRegion: 'us-west-2', replicaRegions: ['eu-west-1', 'us-east-1'] },
  },
  {
    name: 'global-replica-eu',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'eu-west-1',
    keyId: MRK_KEY_ID,
    state: 'PendingDeletion',
    pendingWindowInDays: 7,
    aliases: ['alias/global'],
    tags: { env: 'prod' },
    multiRegion: { type: 'REPLICA', primaryRegion: 'us-west-2', replicaRegions: ['eu-west-1', 'us-east-1'] },
  },
  {
    name: 'global-replica-use1',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-east-1',
    keyId: MRK_KEY_ID,
    state: 'Enabled',
    aliases: ['alias/global'],
    tags: { env: 'prod' },
    multiRegion: { type: 'REPLICA', primaryRegion: 'us-west-2', replicaRegions: ['eu-west-1', 'us-east-1'] },
  },
  {
    name: 'sandbox',
    kms: 'kms-dev',
    account: ACCOUNTS.dev,
    region: 'eu-west-1',
    keyId: keyIdOf('sandbox'),
    state: 'PendingDeletion',
    pendingWindowInDays: 14,
    aliases: ['alias/sandbox'],
    tags: { env: 'dev', 'deletion-guard:exempt': 'true' },
  },
  {
    name: 'analytics',
    kms: 'kms-dev',
    account: ACCOUNTS.dev,
    region: 'us-east-1',
    keyId: keyIdOf('analytics'),
    state: 'Enabled',
    aliases: ['alias/analytics'],
    tags: { env: 'dev' },
  },
  {
    name: 'archive',
    kms: 'kms-shared',
    account: ACCOUNTS.shared,
    region: 'eu-central-1',
    keyId: keyIdOf('archive'),
    state: 'Disabled',
    aliases: ['alias/archive'],
    tags: { env: 'shared', retention: '7y' },
  },
  {
    name: 'reporting',
    kms: 'kms-shared',
    account: ACCOUNTS.shared,
    region: 'us-west-2',
    keyId: keyIdOf('reporting'),
    state: 'Enabled',
    aliases: ['alias/reporting'],
    tags: { env: 'shared' },
  },
  {
    // The same AWS account registered under a second KMS container: `total` 2 for this KeyId.
    name: 'reporting-legacy',
    kms: 'kms-shared-legacy',
    account: ACCOUNTS.shared,
    region: 'us-west-2',
    keyId: keyIdOf('reporting'),
    state: 'Enabled',
    aliases: ['alias/reporting'],
    tags: { env: 'shared' },
  },
  {
    // Another account and Region (a spoke's): scheduled directly in AWS, so CCKM's copy still says
    // Enabled; a forwarded `ScheduleKeyDeletion` from 444455556666 / eu-west-1 targets it, and a
    // synchronization job over eu-west-1 makes it visible to a sweep.
    name: 'telemetry',
    kms: 'kms-dev',
    account: ACCOUNTS.dev,
    region: 'eu-west-1',
    keyId: keyIdOf('telemetry'),
    state: 'PendingDeletion',
    pendingWindowInDays: 7,
    aliases: ['alias/telemetry'],
    tags: { env: 'dev' },
    staleCache: { KeyState: 'Enabled', Enabled: true },
  },
  {
    // A third account and Region with a key pending deletion in AWS (CCKM's copy stale, as above).
    name: 'vault-ap',
    kms: 'kms-shared',
    account: ACCOUNTS.shared,
    region: 'ap-south-1',
    keyId: keyIdOf('vault-ap'),
    state: 'PendingDeletion',
    pendingWindowInDays: 10,
    aliases: ['alias/vault-ap'],
    tags: { env: 'shared' },
    staleCache: { KeyState: 'Enabled', Enabled: true },
  },
  {
    // Exists in AWS only: CCKM has no record (created outside it, not synchronized).
    name: 'unmanaged',
    kms: 'kms-prod',
    account: ACCOUNTS.prod,
    region: 'us-east-1',
    keyId: keyIdOf('unmanaged'),
    state: 'Enabled',
    aliases: ['alias/shadow-it'],
    managed: false,
  },
];

/** The default seed: `SEED_KEYS` and one service-account user with fresh random credentials. */
export function defaultSeed(): Seed {
  return {
    keys: SEED_KEYS,
    users: [
      {
        username: 'deletion-guard',
        password: `pw-${randomBytes(12).toString('base64url')}`,
        refreshTokens: [`rt-${randomBytes(24).toString('base64url')}`],
      },
    ],
  };
}

/** Generates `count` keys pending deletion spread over accounts and Regions (benchmarks use 10,000). */
export function generatePendingKeys(
  count: number,
  opts: { kms?: string; account?: string; regions?: readonly string[]; prefix?: string } = {},
): SeedKey[] {
  const regions = opts.regions ?? ['us-east-1', 'us-west-2', 'eu-west-1'];
  const prefix = opts.prefix ?? 'bulk';
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${i}`,
    kms: opts.kms ?? 'kms-bulk',
    account: opts.account ?? '210987654321',
    region: regions[i % regions.length]!,
    keyId: stableUuid(`aws-key:${prefix}-${i}`),
    state: 'PendingDeletion' as const,
    pendingWindowInDays: 7 + (i % 24),
    aliases: [`alias/${prefix}-${i}`],
    tags: { env: 'load' },
  }));
}
