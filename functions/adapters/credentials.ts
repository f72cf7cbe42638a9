import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, TimeoutError, UpstreamError } from '../shared/errors.ts';
import { isJsonObject } from '../shared/json.ts';
import type { CallBudget } from './call-budget.ts';

/**
 * The CipherTrust Manager credentials secret (contract section 2): parsing and a cached reader.
 * Messages name fields and problems only; no value, not even a prefix, ever reaches one.
 */

export type CckmCredential =
  | { readonly type: 'refresh_token'; readonly refreshToken: string }
  | { readonly type: 'password'; readonly username: string; readonly password: string }
  | { readonly type: 'token'; readonly token: string };

export interface CckmSecret {
  readonly credential: CckmCredential;
  readonly domain?: string;
  readonly authDomain?: string;
  /** PEM; when present the CM certificate must chain to it and only to it. */
  readonly caCert?: string;
}

// A bearer token goes into a header: visible ASCII only, so it cannot split or smuggle headers.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

function bad(problem: string): ConfigError {
  return new ConfigError(`CCKM secret: ${problem}`);
}

function optionalString(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw bad(`${field} must be a non-empty string`);
  return value;
}

/** Parses the secret's JSON SecretString; throws a ConfigError that names fields, never values. */
export function parseSecret(secretString: string): CckmSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    // V8's SyntaxError quotes part of the input, so it is neither kept nor chained.
    throw bad('SecretString is not valid JSON');
  }
  if (!isJsonObject(parsed)) throw bad('SecretString must be a JSON object');
  const record = parsed;
  const refreshToken = optionalString(record, 'refresh_token');
  const username = optionalString(record, 'username');
  const password = optionalString(record, 'password');
  const token = optionalString(record, 'token');

  const kinds = [
    refreshToken !== undefined && 'refresh_token',
    (username !== undefined || password !== undefined) && 'username+password',
    token !== undefined && 'token',
  ].filter((kind) => kind !== false);
  if (kinds.length === 0) {
    throw bad('no credential: set exactly one of refresh_token, username+password or token');
  }
  if (kinds.length > 1) {
    throw bad(`more than one credential kind (${kinds.join(', ')}): set exactly one`);
  }

  let credential: CckmCredential;
  if (refreshToken !== undefined) {
    credential = { type: 'refresh_token', refreshToken };
  } else if (token !== undefined) {
    if (!HEADER_SAFE.test(token)) throw bad('token contains characters not allowed in an HTTP header');
    credential = { type: 'token', token };
  } else {
    if (username === undefined) throw bad('password is set but username is missing');
    if (password === undefined) throw bad('username is set but password is missing');
    credential = { type: 'password', username, password };
  }

  const domain = optionalString(record, 'domain');
  const authDomain = optionalString(record, 'auth_domain');
  const caCert = optionalString(record, 'ca_cert');
  if (caCert !== undefined && !PEM_CERT.test(caCert)) {
    throw bad('ca_cert must be a PEM certificate (-----BEGIN CERTIFICATE----- ...)');
  }
  // An absent field stays an undefined property: every reader asks `!== undefined`, never `in`.
  return Object.freeze({
    credential: Object.freeze(credential),
    domain,
    authDomain,
    caCert,
  });
}

/** A cached reader of the secret. */
export interface SecretSource {
  /**
   * The parsed secret, read at most once per `ttlMs`; concurrent callers share one read, which ends with
   * the budget of the call that started it (the budget is the SDK's abort signal, `call-budget.ts`).
   */
  get(budget?: CallBudget): Promise<CckmSecret>;
  /**
   * Forgets the cached secret so the next `get` reads it again (after a 401: it may have rotated).
   * With `stale`, only when that is still the cached secret: many calls rejected together read once.
   */
  invalidate(stale?: CckmSecret): void;
  /** Reads made from Secrets Manager so far. */
  readonly reads: number;
  /** The secret most recently read, whatever the cache holds now (the newest trust anchor known). */
  readonly latest: CckmSecret | undefined;
}

export interface SecretSourceOptions {
  readonly now?: () => number;
  /** Cache lifetime; the contract caps it at 5 minutes. */
  readonly ttlMs?: number;
}

const CONFIG_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDenied',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
  'ValidationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);

function classify(error: unknown, secretId: string, budget: CallBudget | undefined): Error {
  const name = error instanceof Error ? error.name : 'UnknownError';
  if (budget?.aborted || name === 'AbortError') {
    return new TimeoutError(`Reading Secrets Manager secret ${secretId} ran out of its time budget`);
  }
  if (CONFIG_ERROR_NAMES.has(name)) {
    return new ConfigError(`Cannot read Secrets Manager secret ${secretId}: ${name}`);
  }
  return new UpstreamError(`Secrets Manager failed reading secret ${secretId}: ${name}`);
}

/** Creates the secret reader over a caller-owned SecretsManagerClient (module scope in a handler). */
export function createSecretSource(
  client: SecretsManagerClient,
  secretId: string,
  options: SecretSourceOptions = {},
): SecretSource {
  const now = options.now ?? Date.now;
  const ttlMs = Math.min(options.ttlMs ?? 300_000, 300_000);
  let cached: { secret: CckmSecret; until: number } | undefined;
  let inflight: Promise<CckmSecret> | undefined;
  let generation = 0;
  let reads = 0;
  let latest: CckmSecret | undefined;

  async function read(budget: CallBudget | undefined, gen: number): Promise<CckmSecret> {
    reads++;
    const out = await client
      .send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: budget })
      .catch((error: unknown) => {
        throw classify(error, secretId, budget);
      });
    if (out.SecretString === undefined) {
      throw new ConfigError(
        out.SecretBinary !== undefined
          ? `Secrets Manager secret ${secretId} holds SecretBinary; a JSON SecretString is required`
          : `Secrets Manager secret ${secretId} has no SecretString`,
      );
    }
    const secret = parseSecret(out.SecretString);
    latest = secret;
    // An invalidate() during the read means the caller wants a fresher value than this one.
    if (gen === generation) cached = { secret, until: now() + ttlMs };
    return secret;
  }

  return {
    get(budget) {
      if (cached && now() < cached.until) return Promise.resolve(cached.secret);
      if (!inflight) {
        const current = read(budget, generation).finally(() => {
          if (inflight === current) inflight = undefined;
        });
        inflight = current;
      }
      return inflight;
    },
    invalidate(stale) {
      if (stale !== undefined && cached?.secret !== stale) return;
      generation++;
      cached = undefined;
      inflight = undefined;
    },
    get reads() {
      return reads;
    },
    get latest() {
      return latest;
    },
  };
}
