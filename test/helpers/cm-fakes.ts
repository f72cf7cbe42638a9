import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { type Dispatcher, MockAgent } from 'undici';
import { vi } from 'vitest';
import { type CckmClient, createCckmClient } from '../../functions/adapters/cckm-client.ts';
import type { CmLogger } from '../../functions/adapters/cm-session.ts';
import type { ConnectionConfig } from '../../functions/shared/config.ts';

/** Fakes shared by the CipherTrust Manager client tests: MockAgent, Secrets Manager mock, fixed clock. */

export const CM_ORIGIN = 'https://cm.example.com';
export const SECRET_ID = 'cckm/deletion-guard';
export const CCKM_ID = 'baf58871-2503-4d13-a84a-339aeb8fdfaf';
export const AWS_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
/** Distinctive credential values, so a test can prove none of them leaks anywhere. */
export const REFRESH_TOKEN = 'RT-s3cr3t-refresh-token-value-Zq9';
export const PASSWORD = 'PW-s3cr3t-password-value-Xk7';
export const JSON_HEADERS = { 'content-type': 'application/json' };

/** An unsigned JWT with the given claims (the client never verifies signatures). */
export function makeJwt(claims: Record<string, unknown>, tag = 'sig'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.${tag}`;
}

/** A CCKM AWS key record as CM returns it (reference section 4). */
export function keyRecord(
  overrides: {
    id?: string;
    keyId?: string;
    region?: string;
    account?: string;
    keyState?: string;
    kms?: string;
    alias?: string[];
  } = {},
): Record<string, unknown> {
  const keyId = overrides.keyId ?? AWS_KEY_ID;
  const region = overrides.region ?? REGION;
  const account = overrides.account ?? ACCOUNT;
  return {
    id: overrides.id ?? CCKM_ID,
    kms: overrides.kms ?? 'kms-main',
    kms_id: '0b90f8de-0000-4000-8000-000000000001',
    region,
    cloud_name: 'aws',
    gone: false,
    deletion_date: '2026-12-05T00:00:00Z',
    aws_param: {
      KeyID: keyId,
      Arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
      AWSAccountId: account,
      KeyState: overrides.keyState ?? 'PendingDeletion',
      Enabled: false,
      Alias: overrides.alias ?? ['alias/payments'],
      Tags: [{ TagKey: 'env', TagValue: 'prod' }],
    },
  };
}

/** A UUID-shaped CCKM id numbered `n`, sortable in numeric order. */
export function numberedCckmId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
}

/** The query string of an intercepted path. */
export function queryOf(path: string): URLSearchParams {
  return new URL(path, CM_ORIGIN).searchParams;
}

const mockSecretsManager = () => mockClient(SecretsManagerClient);

export interface Harness {
  readonly client: CckmClient;
  readonly mockAgent: MockAgent;
  readonly pool: ReturnType<MockAgent['get']>;
  readonly sm: ReturnType<typeof mockSecretsManager>;
  readonly logger: { [K in keyof CmLogger]: ReturnType<typeof vi.fn> };
  /** Waits the client asked for between retries. */
  readonly sleeps: number[];
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  now(): number;
}

export interface HarnessOptions {
  readonly secret?: Record<string, unknown>;
  readonly config?: Partial<ConnectionConfig>;
  /** Use the real clock (for tests where a real AbortSignal must fire). */
  readonly realTime?: boolean;
  readonly random?: () => number;
  readonly dispatcher?: Dispatcher;
  /** The listing's page cap per pass (default MAX_PAGES of `cckm-listing.ts`). */
  readonly maxPages?: number;
}

/** Builds a client over a MockAgent (net connect disabled) and a mocked Secrets Manager. */
export function createHarness(options: HarnessOptions = {}): Harness {
  const mockAgent = new MockAgent();
  mockAgent.disableNetConnect();
  const pool = mockAgent.get(CM_ORIGIN);
  const sm = mockSecretsManager();
  sm.onAnyCommand().resolves({
    SecretString: JSON.stringify(options.secret ?? { refresh_token: REFRESH_TOKEN }),
  });
  let clock = Date.parse('2026-11-28T12:00:00Z');
  const sleeps: number[] = [];
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const now = options.realTime ? Date.now : () => clock;
  const client = createCckmClient(
    { cckmUrl: CM_ORIGIN, secretId: SECRET_ID, tlsInsecure: false, timeoutMs: 8000, ...options.config },
    {
      secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
      logger,
      dispatcher: options.dispatcher ?? mockAgent,
      now,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      random: options.random ?? (() => 1),
      ...(options.maxPages === undefined ? {} : { maxPages: options.maxPages }),
    },
  );
  return {
    client,
    mockAgent,
    pool,
    sm,
    logger,
    sleeps,
    advance: (ms) => {
      clock += ms;
    },
    now,
  };
}

/** Registers `times` token grants answering `jwt`, checking the grant body as it goes. */
export function interceptTokens(
  pool: Harness['pool'],
  jwt: string,
  options: { times?: number; duration?: number; grantType?: string } = {},
): void {
  pool
    .intercept({
      path: '/api/v1/auth/tokens',
      method: 'POST',
      body: (body) => JSON.parse(body).grant_type === (options.grantType ?? 'refresh_token'),
      headers: (headers) => !('authorization' in lowerCased(headers)),
    })
    .reply(200, { jwt, duration: options.duration ?? 300, token_type: 'Bearer' }, { headers: JSON_HEADERS })
    .times(options.times ?? 1);
}

/** Header names lower-cased, whichever shape undici handed over. */
export function lowerCased(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: [string, unknown][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Array.isArray(headers)
        ? pairs(headers)
        : Object.entries((headers ?? {}) as Record<string, unknown>);
  for (const [k, v] of entries) out[k.toLowerCase()] = String(v);
  return out;
}

function pairs(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}
