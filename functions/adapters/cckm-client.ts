import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import {
  type AwsKeyRef,
  isAliasName,
  isCckmId,
  isRegion,
  parseCckmId,
  parseKeyIdRef,
} from '../domain/aws-key-ref.ts';
import { type CckmKey, isPendingDeletion, PENDING_STATES } from '../domain/cckm-key.ts';
import type { ConnectionConfig } from '../shared/config.ts';
import {
  AppError,
  AuthenticationError,
  type CmErrorDetail,
  NotFoundError,
  TimeoutError,
  UpstreamError,
  ValidationError,
} from '../shared/errors.ts';
import { logger as defaultLogger } from '../shared/logger.ts';
import type { CallOptions, CancelResult, CckmApi, PageInfo } from './cckm-api.ts';
import { createDispatcherProvider } from './cm-agent.ts';
import {
  buildCmUrl,
  type CmRequest,
  type CmResponse,
  detailOf,
  isCmFailure,
  networkErrorOf,
  scrubDetail,
  sendOnce,
  upstreamErrorOf,
} from './cm-http.ts';
import { type CckmSecret, createSecretSource } from './credentials.ts';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  retryWithBudget,
} from './retry.ts';
import { createTokenProvider, type TokenGrant } from './tokens.ts';

/**
 * The CipherTrust Manager client over undici: secret, token, retry and URL rules of contract
 * section 2 and reference/cckm-api.md, behind the CckmApi interface.
 */

/** The logger methods the client uses; the shared Powertools logger fits. */
export type CmLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface CckmClientDeps {
  /** Module-scope client of the caller. */
  readonly secretsClient: SecretsManagerClient;
  readonly logger?: CmLogger;
  /** Replaces the lazily built Agent (tests pass an undici MockAgent); TLS settings then do not apply. */
  readonly dispatcher?: Dispatcher;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly retryPolicy?: RetryPolicy;
}

/** Counters for tests and benchmarks. */
export interface CckmClientStats {
  /** GetSecretValue calls. */
  readonly secretReads: number;
  /** `POST /api/v1/auth/tokens` grants started. */
  readonly tokenGrants: number;
  /** HTTP requests sent to CM, retries and token grants included. */
  readonly requests: number;
  /** Retries after a 429/502/503/504 or a network error. */
  readonly retries: number;
  /** Calls repeated with a fresh secret and token after a 401. */
  readonly reauthentications: number;
  /** undici Agents built (1 per container unless `ca_cert` rotates; 0 with an injected dispatcher). */
  readonly agentsCreated: number;
}

export interface CckmClient extends CckmApi {
  stats(): CckmClientStats;
  /** Closes the Agent (tests, local runs); a Lambda container just keeps it. */
  close(): Promise<void>;
}

/** Page size of list calls; CM's default of 10 would mean many round trips. */
export const PAGE_SIZE = 100;
/** A listing longer than this is treated as a CM fault, not looped over forever. */
export const MAX_PAGES = 200;
/** Passes over the pending set when it changed while being listed. */
const MAX_PASSES = 3;
const KEYS_PATH = '/api/v1/cckm/aws/keys';
const TOKENS_PATH = '/api/v1/auth/tokens';
// The listing's filter and the check of each listed record (isPendingDeletion) share one set of states.
const PENDING_KEY_STATES: readonly string[] = [...PENDING_STATES];

// Only the fields the guard relies on are checked; the rest of the record is kept as it came.
// Optional fields of the wrong type are dropped rather than failing the record.
const keyRecordSchema = z.looseObject({
  id: z.string().refine(isCckmId),
  region: z.string().min(1),
  aws_param: z.looseObject({
    KeyID: z.string().min(1),
    Arn: z.string().min(1),
    KeyState: z.string().min(1),
    AWSAccountId: z.string().optional().catch(undefined),
    Enabled: z.boolean().optional().catch(undefined),
    Alias: z.array(z.string()).optional().catch(undefined),
    Tags: z
      .array(z.looseObject({ TagKey: z.string(), TagValue: z.string() }))
      .optional()
      .catch(undefined),
  }),
});

const listSchema = z.looseObject({
  total: z.number().int().nonnegative(),
  resources: z.array(z.unknown()).nullable(),
});

const grantSchema = z.looseObject({
  jwt: z.string().regex(/^[\x21-\x7e]+$/),
  duration: z.number().positive().optional().catch(undefined),
});

function asKey(value: unknown): CckmKey | undefined {
  const parsed = keyRecordSchema.safeParse(value);
  return parsed.success ? (parsed.data as unknown as CckmKey) : undefined;
}

/** AWS's text when a cancel meets a key that is not pending deletion, however CM wraps it. */
export function isNotPendingDetail(detail: CmErrorDetail): boolean {
  const text = `${detail.codeDesc ?? ''} ${detail.cmMessage ?? ''}`;
  return (
    /is not pending deletion/i.test(text) || (/KMSInvalidStateException/i.test(text) && /pending/i.test(text))
  );
}

/** The secret values a token request sends, so CM's answer to it can be scrubbed of them. */
function credentialValues(secret: CckmSecret): string[] {
  const c = secret.credential;
  return c.kind === 'refresh_token' ? [c.refreshToken] : c.kind === 'password' ? [c.password] : [c.token];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Creates the CipherTrust Manager client; warns once when TLS verification is off. */
export function createCckmClient(config: ConnectionConfig, deps: CckmClientDeps): CckmClient {
  const log = deps.logger ?? defaultLogger;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const policy = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const origin = config.cckmUrl;
  const counters = { requests: 0, retries: 0, reauthentications: 0 };

  if (config.tlsInsecure) {
    log.warn(
      'CCKM_TLS_INSECURE=true: the CipherTrust Manager certificate is NOT verified; anyone on the network path can impersonate it and receive our credentials',
    );
  }

  const secrets = createSecretSource(deps.secretsClient, config.secretId, { now });
  const dispatchers = createDispatcherProvider(
    { insecure: config.tlsInsecure, timeoutMs: config.timeoutMs },
    deps.dispatcher,
  );
  const tokens = createTokenProvider(mint, now);

  function budgetEnd(options: CallOptions | undefined): number {
    const own = now() + config.timeoutMs;
    const deadline = options?.deadline;
    return typeof deadline === 'number' && Number.isFinite(deadline) ? Math.min(own, deadline) : own;
  }

  async function readSecret(end: number, label: string): Promise<CckmSecret> {
    const remaining = end - now();
    if (remaining <= 0)
      throw new TimeoutError(`CipherTrust Manager call ${label} ran out of its time budget`);
    return secrets.get({ signal: AbortSignal.timeout(remaining) });
  }

  /** Sends with retries on 429/502/503/504 and network errors; other answers are returned as they are. */
  function send(
    secret: CckmSecret,
    request: CmRequest,
    bearer: string | undefined,
    label: string,
    end: number,
  ): Promise<CmResponse> {
    const dispatcher = dispatchers.forCaCert(secret.caCert);
    return retryWithBudget(
      async (signal, attempt) => {
        counters.requests++;
        const started = performance.now();
        let response: CmResponse;
        try {
          response = await sendOnce(dispatcher, origin, request, bearer, signal);
        } catch (error) {
          if (error instanceof AppError || signal.aborted) throw error;
          const wrapped = networkErrorOf(error, label);
          log.debug('CipherTrust Manager request failed', { call: label, attempt, error: wrapped.message });
          if (isRetryableNetworkError(error)) return { ok: false, error: wrapped };
          throw wrapped;
        }
        log.debug('CipherTrust Manager request', {
          call: label,
          status: response.status,
          attempt,
          durationMs: Math.round(performance.now() - started),
        });
        if (!isRetryableStatus(response.status)) return { ok: true, value: response };
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now());
        return {
          ok: false,
          error: upstreamErrorOf(response, label),
          ...(retryAfterMs !== undefined && { retryAfterMs }),
        };
      },
      {
        budgetEnd: end,
        label,
        now,
        sleep,
        random,
        policy,
        onRetry: ({ attempt, delayMs, error }) => {
          counters.retries++;
          log.warn('Retrying CipherTrust Manager call', {
            call: label,
            attempt,
            delayMs,
            reason: error.message,
          });
        },
      },
    );
  }

  async function mint(
    body: Readonly<Record<string, string>>,
    secret: CckmSecret,
    end: number,
  ): Promise<TokenGrant> {
    const label = `POST ${TOKENS_PATH}`;
    const response = await send(secret, { method: 'POST', path: TOKENS_PATH, body }, undefined, label, end);
    const detail = scrubDetail(detailOf(response), credentialValues(secret));
    if (response.status === 401 || response.status === 403) {
      throw new AuthenticationError(
        `CipherTrust Manager refused the credentials in secret ${config.secretId} (${[detail.status, detail.codeDesc].filter(Boolean).join(' ')})`,
        detail,
      );
    }
    if (isCmFailure(response)) throw upstreamErrorOf(response, label, detail);
    const grant = grantSchema.safeParse(response.json);
    if (!grant.success) {
      throw new UpstreamError(`CipherTrust Manager answered ${label} without a usable jwt`, {
        status: response.status,
      });
    }
    log.debug('Minted a CipherTrust Manager token', { grantType: body.grant_type });
    return grant.data.duration === undefined
      ? { jwt: grant.data.jwt }
      : { jwt: grant.data.jwt, duration: grant.data.duration };
  }

  /**
   * One authenticated call: a 401 drops the token, re-reads the secret (it may have rotated), mints
   * again and repeats the call once; a second 401 is an AuthenticationError.
   */
  async function call(request: CmRequest, label: string, end: number): Promise<CmResponse> {
    buildCmUrl(origin, request); // refuse a bad URL before any secret read or token grant
    for (let round = 1; ; round++) {
      const readsBefore = secrets.reads;
      const secret = await readSecret(end, label);
      let token: string;
      try {
        token = await tokens.get(secret, end);
      } catch (error) {
        // A grant refused with a cached secret may just mean the secret rotated: read it once more.
        if (error instanceof AuthenticationError && round === 1 && secrets.reads === readsBefore) {
          secrets.invalidate();
          counters.reauthentications++;
          continue;
        }
        throw error;
      }
      const response = await send(secret, request, token, label, end);
      if (response.status !== 401) return response;
      tokens.drop(token);
      secrets.invalidate();
      if (round >= 2) {
        const detail = detailOf(response);
        throw new AuthenticationError(
          `CipherTrust Manager refused our token for ${label} again after a fresh secret read and token (401 ${detail.codeDesc ?? ''})`.trim(),
          detail,
        );
      }
      counters.reauthentications++;
      log.info('CipherTrust Manager answered 401; re-reading the secret and minting a new token', {
        call: label,
      });
    }
  }

  function failure(response: CmResponse, label: string): UpstreamError {
    const error = upstreamErrorOf(response, label);
    if (response.status !== 403) return error;
    return new UpstreamError(`${error.message} (check the service account's CCKM ACLs)`, error.detail);
  }

  /** The JSON of a successful answer, or the typed error for a failed or unreadable one. */
  function okJson(response: CmResponse, label: string): unknown {
    if (isCmFailure(response)) throw failure(response, label);
    if (response.notJson || response.json === undefined) {
      throw new UpstreamError(`CipherTrust Manager answered ${label} with a body that is not JSON`, {
        status: response.status,
      });
    }
    return response.json;
  }

  function keyPath(id: unknown, action?: 'cancel-deletion' | 'enable'): { path: string; label: string } {
    const cckmId = encodeURIComponent(parseCckmId(id));
    const path = action ? `${KEYS_PATH}/${cckmId}/${action}` : `${KEYS_PATH}/${cckmId}`;
    return { path, label: `${action ? 'POST' : 'GET'} ${path}` };
  }

  async function listOnce(
    query: CmRequest['query'],
    end: number,
  ): Promise<{ records: CckmKey[]; total: number }> {
    const label = `GET ${KEYS_PATH}`;
    const response = await call({ method: 'GET', path: KEYS_PATH, query }, label, end);
    const envelope = listSchema.safeParse(okJson(response, label));
    if (!envelope.success) {
      throw new UpstreamError(`CipherTrust Manager answered ${label} with a malformed list`, {
        status: response.status,
      });
    }
    const records = (envelope.data.resources ?? []).map((item) => {
      const key = asKey(item);
      if (!key) {
        throw new UpstreamError(`CipherTrust Manager answered ${label} with a malformed key record`, {
          status: response.status,
        });
      }
      return key;
    });
    return { records, total: envelope.data.total };
  }

  /** The one match, undefined for none, UpstreamError when CCKM holds several records or more than it sent. */
  function single(matches: readonly CckmKey[], incomplete: boolean, what: string): CckmKey | undefined {
    if (!incomplete && matches.length <= 1) return matches[0];
    const ids = matches.map((k) => `${k.id} (kms ${k.kms ?? k.kms_id ?? 'unknown'})`).join(', ');
    throw new UpstreamError(
      `CCKM holds more than one record for ${what}: ${ids || 'more than one page of matches'}; the account does not tell them apart`,
    );
  }

  return {
    async getKey(id, options) {
      const { path, label } = keyPath(id);
      const response = await call({ method: 'GET', path }, label, budgetEnd(options));
      if (response.status === 404) throw new NotFoundError(`CCKM does not know key ${parseCckmId(id)}`);
      const key = asKey(okJson(response, label));
      if (!key) {
        throw new UpstreamError(`CipherTrust Manager answered ${label} with a malformed key record`, {
          status: response.status,
        });
      }
      return key;
    },

    async findAwsKey(ref: AwsKeyRef, options?: CallOptions) {
      // The ids go into the query string: checked here, whatever the caller already checked.
      const { keyId, region, account } = parseKeyIdRef(ref?.keyId, ref?.region, ref?.account);
      const wanted = keyId.toLowerCase();
      const { records, total } = await listOnce(
        { keyid: keyId, region, limit: PAGE_SIZE },
        budgetEnd(options),
      );
      // CM's filter is trusted only as far as the records prove it: KeyID, Region and account.
      const matches = records.filter(
        (k) =>
          k.aws_param.KeyID.toLowerCase() === wanted &&
          k.region === region &&
          (account === undefined ||
            k.aws_param.AWSAccountId === undefined ||
            k.aws_param.AWSAccountId === account),
      );
      return single(matches, total > records.length, `AWS key ${keyId} in ${region}`);
    },

    async findAwsKeyByAlias(alias, region, options) {
      if (typeof alias !== 'string') throw new ValidationError('alias must be a KMS alias name');
      const full = alias.startsWith('alias/') ? alias : `alias/${alias}`;
      if (!isAliasName(full)) {
        throw new ValidationError('alias must be a customer KMS alias name such as alias/payments');
      }
      if (!isRegion(region)) throw new ValidationError('region must be an AWS Region name such as us-east-1');
      const bare = full.slice('alias/'.length);
      const end = budgetEnd(options);
      // Whether CCKM's alias filter wants the prefix is unverified (reference section 5): try both.
      for (const form of [bare, full]) {
        const { records, total } = await listOnce({ alias: form, region, limit: PAGE_SIZE }, end);
        const matches = records.filter(
          (k) => k.region === region && (k.aws_param.Alias ?? []).some((a) => a === full || a === bare),
        );
        if (matches.length > 0 || total > records.length) {
          return single(matches, total > records.length, `alias ${full} in ${region}`);
        }
      }
      return undefined;
    },

    async *listPendingDeletion(options = {}) {
      // The whole set is listed before the first key is yielded: a cancel made by the consumer
      // shrinks the filtered set, which would make skip-based paging jump over keys.
      const found = new Map<string, CckmKey>();
      let page = 0;
      for (let pass = 1; pass <= MAX_PASSES; pass++) {
        const before = found.size;
        let firstTotal: number | undefined;
        let moved = false;
        for (let skip = 0; ; ) {
          if (page >= MAX_PAGES) {
            throw new UpstreamError(
              `CipherTrust Manager listed more than ${MAX_PAGES} pages of pending keys`,
            );
          }
          const { records, total } = await listOnce(
            { keystate: PENDING_KEY_STATES, skip, limit: PAGE_SIZE },
            budgetEnd(options),
          );
          page++;
          firstTotal ??= total;
          if (total !== firstTotal) moved = true;
          for (const key of records) {
            // A CM that ignored the filter must not turn a sweep into a sweep of every key.
            if (isPendingDeletion(key)) found.set(key.id, key);
          }
          const info: PageInfo = { page, fetched: found.size, total };
          options.onPage?.(info);
          skip += records.length;
          if (records.length === 0 || skip >= total) break;
        }
        // The set changed while it was listed: list again until a pass brings nothing new.
        if (!moved || (pass > 1 && found.size === before)) break;
      }
      const keys = [...found.values()].sort((a, b) => a.id.localeCompare(b.id));
      log.debug('Listed CCKM keys pending deletion', { pages: page, keys: keys.length });
      yield* keys;
    },

    async cancelDeletion(id, options): Promise<CancelResult> {
      const { path, label } = keyPath(id, 'cancel-deletion');
      let response: CmResponse;
      try {
        response = await call({ method: 'POST', path }, label, budgetEnd(options));
      } catch (error) {
        if (
          error instanceof UpstreamError &&
          !(error instanceof AuthenticationError) &&
          isNotPendingDetail(error.detail)
        ) {
          return { outcome: 'not-pending' };
        }
        throw error;
      }
      if (response.status === 404) throw new NotFoundError(`CCKM does not know key ${parseCckmId(id)}`);
      if (isCmFailure(response)) {
        if (isNotPendingDetail(detailOf(response))) return { outcome: 'not-pending' };
        throw failure(response, label);
      }
      // The docs say the answer is the key record, but that was never seen: a 2xx is the cancel.
      const key = asKey(response.json);
      return key ? { outcome: 'cancelled', key } : { outcome: 'cancelled' };
    },

    async enableKey(id, options) {
      const { path, label } = keyPath(id, 'enable');
      const response = await call({ method: 'POST', path }, label, budgetEnd(options));
      if (response.status === 404) throw new NotFoundError(`CCKM does not know key ${parseCckmId(id)}`);
      if (isCmFailure(response)) throw failure(response, label);
      return asKey(response.json);
    },

    stats() {
      return {
        secretReads: secrets.reads,
        tokenGrants: tokens.grants,
        ...counters,
        agentsCreated: dispatchers.agentsCreated,
      };
    },

    close() {
      return dispatchers.close();
    },
  };
}
