import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Dispatcher } from 'undici';
import type { CallOptions } from '../domain/ports.ts';
import type { ConnectionConfig } from '../shared/config.ts';
import { AuthenticationError, UpstreamError } from '../shared/errors.ts';
import { isJsonObject } from '../shared/json.ts';
import { logger as defaultLogger } from '../shared/logger.ts';
import { CallBudget } from './call-budget.ts';
import { createDispatcherProvider } from './cm-agent.ts';
import { type CmRequest, type CmResponse, detailOf, isCmFailure, upstreamErrorOf } from './cm-http.ts';
import { type PreparedCmRequest, prepareCmRequest } from './cm-path.ts';
import { createCmSender } from './cm-send.ts';
import { type CckmSecret, createSecretSource } from './credentials.ts';
import { DEFAULT_RETRY_POLICY, outOfBudget, type RetryPolicy } from './retry.ts';
import { createTokenProvider, type GrantBody, TOKENS_PATH, type TokenGrant } from './tokens.ts';

/**
 * An authenticated session with CipherTrust Manager (contract section 2): the secret, the token and
 * the 401 loop, over the retrying sender (`cm-send.ts`), behind one `call`. It knows nothing of keys.
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
  /** Page cap of one listing pass (tests lower it); default MAX_PAGES of `cckm-listing.ts`. */
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

/** A token grant's jwt (printable ASCII, no blank) and its lifetime when it is a positive number. */
function grantOf(json: unknown): TokenGrant | undefined {
  if (!isJsonObject(json) || typeof json.jwt !== 'string' || !/^[\x21-\x7e]+$/.test(json.jwt))
    return undefined;
  const { duration } = json;
  const usable = typeof duration === 'number' && Number.isFinite(duration) && duration > 0;
  return { jwt: json.jwt, duration: usable ? duration : undefined };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Opens the session; warns once when TLS verification is off. */
export function createCmSession(config: ConnectionConfig, deps: CckmClientDeps): CmSession {
  const log = deps.logger ?? defaultLogger;
  const now = deps.now ?? Date.now;
  let reauthentications = 0;

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
  const sender = createCmSender({
    origin: config.cckmUrl,
    log,
    now,
    sleep: deps.sleep ?? defaultSleep,
    random: deps.random ?? Math.random,
    retryPolicy: deps.retryPolicy ?? DEFAULT_RETRY_POLICY,
    dispatcherFor: (secret) => dispatchers.forCaCert((secrets.latest ?? secret).caCert),
  });
  const { send } = sender;
  const tokens = createTokenProvider(mint, now);

  function budgetEnd(options: CallOptions | undefined): number {
    const own = now() + config.timeoutMs;
    const deadline = options?.deadline;
    return typeof deadline === 'number' && Number.isFinite(deadline) ? Math.min(own, deadline) : own;
  }

  async function mint(body: GrantBody, secret: CckmSecret, end: number): Promise<TokenGrant> {
    const label = `POST ${TOKENS_PATH}`;
    const request = prepareCmRequest({ method: 'POST', path: TOKENS_PATH, body });
    const response = await send(secret, request, undefined, label, end);
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
    // Checked and built once, before any secret read or token grant: a bad path is refused first.
    const prepared = prepareCmRequest(request);
    const end = budgetEnd(options);
    // One timer for the call's whole budget (secret read and every attempt), stopped as soon as the
    // call is done.
    const budget = new CallBudget(end - now());
    try {
      return await callWithin(prepared, label, end, budget);
    } finally {
      budget.done();
    }
  }

  async function callWithin(request: PreparedCmRequest, label: string, end: number, budget: CallBudget) {
    let ambiguous = false;
    for (let round = 1; ; round++) {
      const readsBefore = secrets.reads;
      if (end - now() <= 0) throw outOfBudget(label);
      const secret = await secrets.get(budget);
      let token: string;
      try {
        token = await tokens.get(secret, end);
      } catch (error) {
        // A grant refused with a cached secret may just mean the secret rotated: read it once more.
        if (error instanceof AuthenticationError && round === 1 && secrets.reads === readsBefore) {
          secrets.invalidate(secret);
          reauthentications++;
          continue;
        }
        throw error;
      }
      const response = await send(secret, request, token, label, end, budget);
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
      reauthentications++;
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
        requests: sender.requests,
        retries: sender.retries,
        reauthentications,
        agentsCreated: dispatchers.agentsCreated,
      };
    },
    close() {
      return dispatchers.close();
    },
  };
}
