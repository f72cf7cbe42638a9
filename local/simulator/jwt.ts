import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Claims of a simulator JWT, shaped like CipherTrust Manager's (`iss` `kylo`, `cust`, `jti`). */
export interface SimJwtClaims {
  readonly iss: string;
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  /** Token generation: `expireAllTokens()` bumps the current one, so older tokens count as expired. */
  readonly gen: number;
  readonly cust: { readonly domain: string; readonly groups: readonly string[]; readonly sid: string };
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Signs claims as an HS256 JWT (header.payload.signature, base64url). */
export function signJwt(claims: SimJwtClaims, secret: Buffer): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Result of checking a bearer token. */
export type JwtCheck =
  | { readonly ok: true; readonly claims: SimJwtClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'signature' };

/** Verifies the HS256 signature and shape of a JWT; expiry is the caller's business. */
export function verifyJwt(token: string, secret: Buffer): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [head, body, sig] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature' };
  }
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SimJwtClaims;
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number')
      return { ok: false, reason: 'malformed' };
    return { ok: true, claims };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** Builds the claims of a fresh token. */
export function newClaims(subject: string, nowSec: number, lifetimeSec: number, gen: number): SimJwtClaims {
  return {
    iss: 'kylo',
    sub: subject,
    jti: randomUUID(),
    iat: nowSec,
    exp: nowSec + lifetimeSec,
    gen,
    cust: { domain: 'root', groups: ['admin'], sid: randomUUID() },
  };
}
