import type { CckmCredential, CckmSecret } from './credentials.ts';

/**
 * JWTs for CipherTrust Manager: minted from the secret's refresh token or password at
 * `POST /api/v1/auth/tokens`, cached until 30 s before expiry, one mint in flight at a time.
 */

/** CM's token endpoint: the session mints there, and its failed answers' text is never copied. */
export const TOKENS_PATH = '/api/v1/auth/tokens';

/** What `POST /api/v1/auth/tokens` returned, reduced to what the cache needs. */
export interface TokenGrant {
  readonly jwt: string;
  /** Lifetime in seconds, used when the JWT carries no readable `exp`. */
  readonly duration?: number;
}

/** The JSON body of a grant request (reference/cckm-api.md section 2.1); an undefined member is left out. */
export type GrantBody = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** The label of the refresh tokens a password grant makes CM mint (contract section 2). */
export const GRANT_LABEL = 'cckm-deletion-guard';
/**
 * Minutes after which CM revokes such a refresh token left unused. The guard never uses it (it mints
 * JWTs with the password again), so any value works; an hour keeps at most one cold start's worth
 * of them alive per hour while staying far above any clock skew or CM rounding.
 */
export const REFRESH_TOKEN_REVOKE_UNUSED_MINUTES = 60;

/** Sends a grant request body to `/api/v1/auth/tokens` within the budget and returns the grant. */
export type MintFn = (body: GrantBody, secret: CckmSecret, budgetEnd: number) => Promise<TokenGrant>;

/** Refresh this long before expiry so a token never expires between the check and CM's check. */
export const REFRESH_MARGIN_MS = 30_000;
/** CM's documented JWT lifetime, used when neither `exp` nor `duration` says otherwise. */
export const DEFAULT_LIFETIME_MS = 300_000;

type GrantCredential = Exclude<CckmCredential, { readonly type: 'token' }>;

/**
 * The grant request body for a refresh-token or password secret. Never `renew_refresh_token`: that
 * would mint a new refresh token and invalidate the stored one.
 */
function grantBody(credential: GrantCredential, secret: CckmSecret): GrantBody {
  // `domain` and `auth_domain` are left out of the JSON when the secret has none.
  const scope = { domain: secret.domain, auth_domain: secret.authDomain };
  return credential.type === 'refresh_token'
    ? { grant_type: 'refresh_token', refresh_token: credential.refreshToken, ...scope }
    : {
        grant_type: 'password',
        username: credential.username,
        password: credential.password,
        ...scope,
        // Every password grant makes CM mint a refresh token, which never expires by default and which
        // the guard never uses: label it so it can be found, and have CM revoke it unused.
        labels: [GRANT_LABEL],
        refresh_token_revoke_unused_in: REFRESH_TOKEN_REVOKE_UNUSED_MINUTES,
      };
}

/** The JWT's `exp` claim in epoch ms, read without verifying the signature; undefined if unreadable. */
export function jwtExpiryMs(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** When a freshly minted token should be replaced: 30 s before `exp`, else `duration`, else 300 s. */
export function refreshAtMs(grant: TokenGrant, nowMs: number): number {
  const durationMs =
    typeof grant.duration === 'number' && grant.duration > 0 ? grant.duration * 1000 : DEFAULT_LIFETIME_MS;
  const expiry = jwtExpiryMs(grant.jwt) ?? nowMs + durationMs;
  // A token shorter-lived than twice the margin is still used for half its remaining life.
  const margin = Math.min(REFRESH_MARGIN_MS, Math.max(0, (expiry - nowMs) / 2));
  return expiry - margin;
}

export interface TokenProvider {
  /** A bearer token for `secret`: cached, shared with concurrent callers, or minted within the budget. */
  get(secret: CckmSecret, budgetEnd: number): Promise<string>;
  /** Forgets `rejected` after a 401 when it is the cached token; a token already dropped or replaced is left alone. */
  drop(rejected: string): void;
  /** Grant requests sent so far. */
  readonly grants: number;
}

/** Creates the token cache over a mint function (the client's call to `/api/v1/auth/tokens`). */
export function createTokenProvider(mint: MintFn, now: () => number = Date.now): TokenProvider {
  let cached: { jwt: string; refreshAt: number } | undefined;
  let inflight: { promise: Promise<string>; generation: number } | undefined;
  let generation = 0;
  let grants = 0;

  function start(body: GrantBody, secret: CckmSecret, budgetEnd: number): Promise<string> {
    const gen = generation;
    grants++;
    const promise = mint(body, secret, budgetEnd)
      .then((grant) => {
        if (gen === generation) cached = { jwt: grant.jwt, refreshAt: refreshAtMs(grant, now()) };
        return grant.jwt;
      })
      .finally(() => {
        if (inflight?.promise === promise) inflight = undefined;
      });
    inflight = { promise, generation: gen };
    return promise;
  }

  return {
    get(secret, budgetEnd) {
      const { credential } = secret;
      // A static token is used as it is; after a 401 the secret is re-read, which is its refresh.
      if (credential.type === 'token') return Promise.resolve(credential.token);
      if (cached && now() < cached.refreshAt) return Promise.resolve(cached.jwt);
      if (inflight && inflight.generation === generation) return inflight.promise;
      return start(grantBody(credential, secret), secret, budgetEnd);
    },
    drop(rejected) {
      // Only the token that was rejected: a 401 for a token already dropped (a storm of them) or
      // replaced must not discard the mint in flight or the new token, or each 401 mints once more.
      if (cached?.jwt !== rejected) return;
      cached = undefined;
      generation++;
    },
    get grants() {
      return grants;
    },
  };
}
