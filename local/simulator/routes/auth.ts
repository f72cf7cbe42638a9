import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { cmError, type Reply } from '../http.ts';
import { newClaims, signJwt, verifyJwt } from '../jwt.ts';
import type { SeedUser } from '../seed.ts';
import type { PasswordGrantFields, SimUsers } from '../types.ts';
import type { SimContext } from './context.ts';

/** Token endpoint, bearer checks and users of one simulator (`POST /api/v1/auth/tokens`). */
export interface AuthRoutes {
  /** Answers a token request (body already parsed). */
  handleToken(body: Record<string, unknown>): Reply;
  /** Undefined when the request carries a valid, unexpired bearer token; else the 401 to send. */
  checkBearer(req: IncomingMessage): Reply | undefined;
  /**
   * Counts a token request as the client sent it (before any fault) and remembers a password
   * grant's fields without the password; returns the `grant_type` for the request log.
   */
  observeTokenRequest(rawBody: string): string | undefined;
  /** Every token issued so far counts as expired from now on. */
  expireAll(): void;
  /** Back to the seeded users, passwords and refresh tokens. */
  restoreUsers(): void;
  readonly users: SimUsers;
}

const TOKEN_FIELD_LIMIT = 200;

/** The fields of a password grant worth asserting, never the password itself. */
function passwordGrantFields(body: Record<string, unknown>): PasswordGrantFields {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'password' || k === 'refresh_token') continue;
    kept[k] = typeof v === 'string' ? v.slice(0, TOKEN_FIELD_LIMIT) : v;
  }
  return { fields: Object.keys(body).sort(), values: kept };
}

export function createAuthRoutes(
  ctx: SimContext,
  seedUsers: readonly SeedUser[],
  lifetimeSec: number,
): AuthRoutes {
  const jwtSecret = randomBytes(32);
  const nowSec = (): number => Math.floor(ctx.now() / 1000);
  // Token generation: tokens minted before the last expire-all carry an older `gen`.
  let generation = 0;
  let expiredAllAtSec = 0;
  const passwords = new Map<string, string>();
  const refreshTokens = new Map<string, { username: string; id: string }>();
  const clientIds = new Map<string, string>();

  const loadUser = (u: SeedUser): void => {
    passwords.set(u.username, u.password);
    clientIds.set(u.username, randomUUID());
    for (const t of u.refreshTokens) refreshTokens.set(t, { username: u.username, id: randomUUID() });
  };
  const restoreUsers = (): void => {
    passwords.clear();
    refreshTokens.clear();
    for (const u of seedUsers) loadUser(u);
  };
  restoreUsers();

  const mintRefreshToken = (username: string): { token: string; id: string } => {
    const token = `rt-${randomBytes(24).toString('base64url')}`;
    const id = randomUUID();
    refreshTokens.set(token, { username, id });
    ctx.counters().refreshTokensMinted += 1;
    return { token, id };
  };

  const tokenResponse = (username: string, refresh?: { token: string; id: string }): Reply => {
    const jwt = signJwt(newClaims(`local|${username}`, nowSec(), lifetimeSec, generation), jwtSecret);
    const body: Record<string, unknown> = {
      jwt,
      duration: lifetimeSec,
      token_type: 'Bearer',
      client_id: clientIds.get(username) ?? randomUUID(),
    };
    if (refresh) {
      body.refresh_token = refresh.token;
      body.refresh_token_id = refresh.id;
    }
    return { status: 200, body };
  };

  const unauthorizedLogin = (): Reply => {
    ctx.counters().tokenRejections += 1;
    return cmError(401, 5, 'NCERRUnauthorizedAccess', 'Wrong username or password.');
  };

  const handleToken = (body: Record<string, unknown>): Reply => {
    const grant = body.grant_type;
    if (grant === 'password') {
      const username = body.username;
      const password = body.password;
      if (
        typeof username !== 'string' ||
        typeof password !== 'string' ||
        passwords.get(username) !== password
      ) {
        return unauthorizedLogin();
      }
      ctx.counters().tokenGrants.password += 1;
      // Real CM mints a new refresh token at every password grant; the count makes that visible.
      return tokenResponse(username, mintRefreshToken(username));
    }
    if (grant === 'refresh_token') {
      const token = body.refresh_token;
      const entry = typeof token === 'string' ? refreshTokens.get(token) : undefined;
      if (!entry || typeof token !== 'string') return unauthorizedLogin();
      ctx.counters().tokenGrants.refresh_token += 1;
      if (body.renew_refresh_token === true) {
        refreshTokens.delete(token);
        return tokenResponse(entry.username, mintRefreshToken(entry.username));
      }
      return tokenResponse(entry.username);
    }
    return unauthorizedLogin();
  };

  const checkBearer = (req: IncomingMessage): Reply | undefined => {
    const header = req.headers.authorization;
    if (!header) return cmError(401, 5, 'NCERRUnauthorizedAccess: Bearer token missing');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      return cmError(401, 5, 'NCERRUnauthorizedAccess: Bearer token malformed: expected a Bearer token');
    const check = verifyJwt(m[1]!, jwtSecret);
    if (!check.ok) {
      return cmError(
        401,
        5,
        `NCERRUnauthorizedAccess: Bearer token malformed: ${check.reason === 'signature' ? 'signature is invalid' : 'token contains an invalid number of segments'}`,
      );
    }
    const t = nowSec();
    const forced = check.claims.gen < generation;
    if (forced || t >= check.claims.exp) {
      const expiredAt = forced ? Math.min(expiredAllAtSec, check.claims.exp) : check.claims.exp;
      return cmError(
        401,
        5,
        `NCERRUnauthorizedAccess: Bearer token malformed: Token is expired by ${Math.max(0, t - expiredAt)}s`,
      );
    }
    return undefined;
  };

  const observeTokenRequest = (rawBody: string): string | undefined => {
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      body = undefined;
    }
    const g = body?.grant_type;
    const grantType = typeof g === 'string' ? g.slice(0, 40) : undefined;
    const counters = ctx.counters();
    const key = grantType ?? '(none)';
    counters.tokenRequests[key] = (counters.tokenRequests[key] ?? 0) + 1;
    if (body && grantType === 'password') counters.lastPasswordGrant = passwordGrantFields(body);
    return grantType;
  };

  const users: SimUsers = {
    setPassword(username, password) {
      if (!passwords.has(username)) throw new Error(`no user ${username}`);
      passwords.set(username, password);
    },
    issueRefreshToken(username) {
      if (!passwords.has(username)) throw new Error(`no user ${username}`);
      return mintRefreshToken(username).token;
    },
    revokeRefreshToken(token) {
      refreshTokens.delete(token);
    },
  };

  return {
    handleToken,
    checkBearer,
    observeTokenRequest,
    expireAll() {
      generation += 1;
      expiredAllAtSec = nowSec();
    },
    restoreUsers,
    users,
  };
}
