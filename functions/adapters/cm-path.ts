import { ValidationError } from '../shared/errors.ts';
import type { CmRequest } from './cm-http.ts';

/**
 * Where a CipherTrust Manager request goes: a path that cannot leave `/api/v1/` of the configured
 * origin and its form-encoded query, checked and built once per call (`prepareCmRequest`).
 */

// Characters a URL path carries as they are (RFC 3986 unreserved, sub-delims, `:`, `@`, `/`): a path of
// only these is sent exactly as written, so no `%`, `\`, `?`, `#`, blank or non-ASCII can re-route it.
const PLAIN_PATH = /^\/api\/v1\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
// A `.` or `..` segment (the path starts with `/`, so every segment follows one), found without
// splitting the path into an array on every request.
const DOT_SEGMENT = /\/\.{1,2}(?:\/|$)/;

/**
 * Proves a request path stays under `/api/v1/` of the configured origin, with string tests only (no
 * `URL` per request: it was the hottest own function of a warm API call, BENCHMARKS.md); throws a
 * ValidationError otherwise, before anything is sent.
 */
export function checkCmPath(path: string): void {
  // Ids are validated before they get here; this is the second line of defence, not the first.
  if (!PLAIN_PATH.test(path) || DOT_SEGMENT.test(path)) {
    throw new ValidationError('refusing to call CipherTrust Manager outside /api/v1/');
  }
}

/**
 * What form-encoding (`URLSearchParams`) writes as it is: ASCII letters and digits, `*`, `-`, `.`, `_`.
 * A query whose names and values are all of these is the same text joined by hand, without building a
 * `URLSearchParams` per lookup (4-8 µs of each remediation event, BENCHMARKS.md "Misses"); CM ids,
 * Regions, key states and numbers always are.
 */
const FORM_PLAIN = /^[A-Za-z0-9*\-._]*$/;

/** The checked path and its query string (`?a=1&b=2`, form-encoded), as sent on the request line. */
export function cmRequestPath(request: Pick<CmRequest, 'path' | 'query'>): string {
  checkCmPath(request.path);
  if (request.query === undefined) return request.path;
  const pairs: [string, string][] = [];
  let plain = true;
  for (const [name, value] of Object.entries(request.query)) {
    if (value === undefined) continue;
    // CM's multi-valued filters want the parameter repeated; a comma-joined value matches nothing.
    for (const v of Array.isArray(value) ? value : [String(value)]) {
      pairs.push([name, v]);
      plain &&= FORM_PLAIN.test(name) && FORM_PLAIN.test(v);
    }
  }
  const query = plain
    ? pairs.map(([name, v]) => `${name}=${v}`).join('&')
    : new URLSearchParams(pairs).toString();
  return query === '' ? request.path : `${request.path}?${query}`;
}

/** A request ready for the wire: checked once, whatever the number of attempts. */
export interface PreparedCmRequest {
  readonly method: 'GET' | 'POST';
  /** The checked path and its query string, as `cmRequestPath` builds them. */
  readonly target: string;
  /** The JSON body as sent; absent means no body and no Content-Type. */
  readonly body?: string;
}

/** Checks the path, builds the query string and serialises the body, once per call. */
export function prepareCmRequest(request: CmRequest): PreparedCmRequest {
  const target = cmRequestPath(request);
  return request.body === undefined
    ? { method: request.method, target }
    : { method: request.method, target, body: JSON.stringify(request.body) };
}
