import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Dispatcher } from 'undici';
import type { CallOptions } from '../domain/ports.ts';
import type { ConnectionConfig } from '../shared/config.ts';
import { AppError, AuthenticationError, TimeoutError, UpstreamError } from '../shared/errors.ts';
import { logger as defaultLogger } from '../shared/logger.ts';
import { createDispatcherProvider } from './cm-agent.ts';
import {
  type CmRequest,
  type CmResponse,
  checkCmPath,
  detailOf,
  isCmFailure,
  isJsonObject,
  networkErrorOf,
  sendOnce,
  tokenEndpointDetailOf,
  upstreamErrorOf,
} from './cm-http.ts';
import { type CckmSecret, createSecretSource } from './credentials.ts';
import { createRedactor, type Redactor } from './redact.ts';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  retryWithBudget,
} from './retry.ts';
import { createTokenProvider, type GrantBody, type TokenGrant } from './tokens.ts';

/**
 * An authenticated session with CipherTrust Manager (contract section 2): the secret, the token,
 * retries on transient failures and the 401 loop, behind one `call`. It knows nothing of keys.
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
  /** Page cap of one listing pass (tests lower it); default the client's MAX_PAGES. */
  readonly maxPages?: number;
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

export interface CmSession {
  /**
   * One authenticated call: a 401 drops the token, re-reads the secret (it may have rotated), mints
   * again and repeats the call once; a second 401 is an AuthenticationError. Other answers, failures
   * included, are returned as they are once retries are spent.
   */
  call(request: CmRequest, label: string, options?: CallOptions): Promise<CmResponse>;
  stats(): CckmClientStats;
  close(): Promise<void>;
}

const TOKENS_PATH = '/api/v1/auth/tokens';

/** A token grant's jwt (printable ASCII, no blank) and its lifetime when it is a positive number. */
function grantOf(json: unknown): TokenGrant | undefined {
  if (!isJsonObject(json) || typeof json.jwt !== 'string' || !/^[\x21-\x7e]+$/.test(json.jwt))
    return undefined;
  const { duration } = json;
  return typeof duration === 'number' && Number.isFinite(duration) && duration > 0
    ? { jwt: json.jwt, duration }
    : { jwt: json.jwt };
}

/**
 * One abort signal for a call's whole budget (secret read and every attempt): a single timer, cleared as
 * soon as the call is done, where `AbortSignal.timeout` per read and per attempt left two timers per call
 * pending for the full budget (BENCHMARKS.md).
 */
function budgetSignal(ms: number): { readonly signal: AbortSignal; readonly done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    Math.max(0, ms),
  );
  timer.unref();
  return { signal: controller.signal, done: () => clearTimeout(timer) };
}

/** The credential values of a secret, so CM's answers can be scrubbed of them. */
function credentialValues(secret: CckmSecret): string[] {
  const c = secret.credential;
  return c.type === 'refresh_token' ? [c.refreshToken] : c.type === 'password' ? [c.password] : [c.token];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Opens the session; warns once when TLS verification is off. */
export function createCmSession(config: ConnectionConfig, deps: CckmClientDeps): CmSession {
  const log = deps.logger ?? defaultLogger;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const retryPolicy = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
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

  // Built only when a failure must be described, and kept for the next one with the same secret and JWT.
  let redaction: { secret: CckmSecret; bearer: string | undefined; redact: Redactor } | undefined;
  function redactorFor(secret: CckmSecret, bearer: string | undefined): Redactor {
    if (redaction?.secret !== secret || redaction.bearer !== bearer) {
      redaction = { secret, bearer, redact: createRedactor([...credentialValues(secret), bearer]) };
    }
    return redaction.redact;
  }

  /**
   * A failed answer with its detail attached, scrubbed once, before anything reads it: the token
   * endpoint's text is never copied (status and codeDesc name only), any other answer's text is
   * redacted of the secret's credential and the JWT it was sent with.
   */
  function withDetail(
    response: CmResponse,
    request: CmRequest,
    secret: CckmSecret,
    bearer: string | undefined,
  ): CmResponse {
    if (!isCmFailure(response)) return response;
    const tokenEndpoint = request.path === TOKENS_PATH || bearer === undefined;
    const detail = tokenEndpoint
      ? tokenEndpointDetailOf(response)
      : detailOf(response, redactorFor(secret, bearer));
    return { ...response, detail };
  }

  function budgetEnd(options: CallOptions | undefined): number {
    const own = now() + config.timeoutMs;
    const deadline = options?.deadline;
    return typeof deadline === 'number' && Number.isFinite(deadline) ? Math.min(own, deadline) : own;
  }

  async function readSecret(end: number, label: string, signal: AbortSignal): Promise<CckmSecret> {
    if (end - now() <= 0)
      throw new TimeoutError(`CipherTrust Manager call ${label} ran out of its time budget`);
    return secrets.get({ signal });
  }

  /** Sends with retries on 429/502/503/504 and network errors; other answers are returned as they are. */
  function send(
    secret: CckmSecret,
    request: CmRequest,
    bearer: string | undefined,
    label: string,
    end: number,
    signal?: AbortSignal,
  ): Promise<CmResponse> {
    // A 429 is a refusal before any work; a 5xx or a dropped connection may come after CM acted.
    let ambiguous = false;
    const answer = (response: CmResponse): CmResponse => (ambiguous ? { ...response, ambiguous } : response);
    return retryWithBudget(
      async (signal, attempt) => {
        counters.requests++;
        // Chosen per attempt: a ca_cert rotated during a backoff (read by another call) closes the
        // Agent this call started with, so the next attempt goes through the newest one.
        const dispatcher = dispatchers.forCaCert((secrets.latest ?? secret).caCert);
        const started = performance.now();
        let response: CmResponse;
        try {
          response = withDetail(
            await sendOnce(dispatcher, origin, request, bearer, signal),
            request,
            secret,
            bearer,
          );
        } catch (error) {
          if (error instanceof AppError || signal.aborted) throw error;
          const wrapped = networkErrorOf(error, label);
          log.debug('CipherTrust Manager request failed', { call: label, attempt, error: wrapped.message });
          if (isRetryableNetworkError(error)) {
            ambiguous = true;
            return { ok: false, error: wrapped };
          }
          throw wrapped;
        }
        log.debug('CipherTrust Manager request', {
          call: label,
          status: response.status,
          attempt,
          durationMs: Math.round(performance.now() - started),
        });
        if (!isRetryableStatus(response.status)) return { ok: true, value: answer(response) };
        if (response.status !== 429) ambiguous = true;
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now());
        return {
          ok: false,
          error: upstreamErrorOf(response, label),
          ...(retryAfterMs !== undefined && { retryAfterMs }),
        };
      },
      {
        budgetEnd: end,
        ...(signal && { signal }),
        label,
        now,
        sleep,
        random,
        policy: retryPolicy,
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

  async function mint(body: GrantBody, secret: CckmSecret, end: number): Promise<TokenGrant> {
    const label = `POST ${TOKENS_PATH}`;
    const response = await send(secret, { method: 'POST', path: TOKENS_PATH, body }, undefined, label, end);
    const detail = detailOf(response);
    if (response.status === 401 || response.status === 403) {
      throw new AuthenticationError(
        `CipherTrust Manager refused the credentials in secret ${config.secretId} (${[detail.status, detail.codeDesc].filter(Boolean).join(' ')})`,
        detail,
      );
    }
    if (isCmFailure(response)) throw upstreamErrorOf(response, label, detail);
    const grant = grantOf(response.json);
    if (!grant) {
      throw new UpstreamError(`CipherTrust Manager answered ${label} without a usable jwt`, {
        status: response.status,
      });
    }
    log.debug('Minted a CipherTrust Manager token', { grantType: body.grant_type });
    return grant;
  }

  async function call(request: CmRequest, label: string, options?: CallOptions): Promise<CmResponse> {
    checkCmPath(request.path); // refuse a bad path before any secret read or token grant
    const end = budgetEnd(options);
    const budget = budgetSignal(end - now());
    try {
      return await callWithin(request, label, end, budget.signal);
    } finally {
      budget.done();
    }
  }

  async function callWithin(request: CmRequest, label: string, end: number, signal: AbortSignal) {
    let ambiguous = false;
    for (let round = 1; ; round++) {
      const readsBefore = secrets.reads;
      const secret = await readSecret(end, label, signal);
      let token: string;
      try {
        token = await tokens.get(secret, end);
      } catch (error) {
        // A grant refused with a cached secret may just mean the secret rotated: read it once more.
        if (error instanceof AuthenticationError && round === 1 && secrets.reads === readsBefore) {
          secrets.invalidate(secret);
          counters.reauthentications++;
          continue;
        }
        throw error;
      }
      const response = await send(secret, request, token, label, end, signal);
      ambiguous ||= response.ambiguous === true;
      if (response.status !== 401) return ambiguous ? { ...response, ambiguous } : response;
      // However many calls got this 401, the token is dropped and the secret re-read once for it.
      tokens.drop(token);
      secrets.invalidate(secret);
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

  return {
    call,
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
