/**
 * Fault injection: rules that take over the next N requests matching a method, a path pattern and
 * optionally a body fragment. Rules are consumed in the order they were added; the first matching
 * rule with hits left applies. The same shape is accepted over HTTP at `POST /__sim/faults`.
 */

/** A fault rule. At least one of `status`, `reset` or `delayMs` says what to do. */
export interface FaultSpec {
  /** HTTP method to match, e.g. `POST`; any method when absent. */
  readonly method?: string;
  /**
   * Path to match (without query): a glob where `*` matches any run of characters, e.g.
   * `/api/v1/cckm/aws/keys/*\/cancel-deletion`, or a RegExp (programmatic use only). Default `*`.
   */
  readonly path?: string | RegExp;
  /** Only requests whose body contains this text. */
  readonly bodyIncludes?: string;
  /** How many matching requests the rule takes; default 1, `Infinity` (or -1 over HTTP) for all. */
  readonly times?: number;
  /** Wait this long before sending headers (slow headers); then apply the rest of the rule. */
  readonly delayMs?: number;
  /** Destroy the socket instead of answering (a connection reset). */
  readonly reset?: boolean;
  /** Answer with this status instead of the real handler. */
  readonly status?: number;
  /**
   * Body for `status`: a string is sent as it is (use it for malformed or non-JSON bodies), an
   * object as JSON. Default: a CM-shaped error body for 4xx/5xx, `{}` otherwise.
   */
  readonly body?: string | Record<string, unknown>;
  /** Content type of `body`; default `application/json`. */
  readonly contentType?: string;
  /** `Retry-After` header value (seconds or an HTTP date). */
  readonly retryAfter?: number | string;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A rule in the table, with its consumption so far. */
export interface FaultRuleState {
  readonly id: number;
  readonly spec: FaultSpec;
  readonly hits: number;
  /** Hits left (`Infinity` for an unlimited rule). */
  readonly remaining: number;
}

const CODE_DESC: Readonly<Record<number, readonly [number, string]>> = {
  400: [10, 'NCERRBadRequest: bad request'],
  401: [5, 'NCERRUnauthorizedAccess: Unauthorized'],
  403: [6, 'NCERRForbidden: insufficient permissions'],
  404: [16, 'NCERRResourceNotFound: Resource not found'],
  409: [20, 'NCERRConflict: conflict'],
  429: [21, 'NCERRTooManyRequests: rate limit exceeded'],
  500: [14, 'NCERRInternalServerError: unexpected error'],
  502: [14, 'NCERRInternalServerError: bad gateway'],
  503: [14, 'NCERRInternalServerError: service unavailable'],
  504: [14, 'NCERRInternalServerError: gateway timeout'],
};

/** The default CM-shaped error body for a status. */
export function defaultErrorBody(status: number): { code: number; codeDesc: string } {
  const [code, codeDesc] = CODE_DESC[status] ?? [14, `NCERRInternalServerError: status ${status}`];
  return { code, codeDesc };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

interface Rule {
  id: number;
  spec: FaultSpec;
  pathRe: RegExp;
  hits: number;
  remaining: number;
}

/** The fault table of one simulator. */
export class Faults {
  #rules: Rule[] = [];
  #nextId = 1;
  readonly #expireAll: () => void;

  constructor(expireAll: () => void) {
    this.#expireAll = expireAll;
  }

  /** Adds a rule; returns its id (see `pending()`). */
  add(spec: FaultSpec): number {
    if (spec.status === undefined && !spec.reset && spec.delayMs === undefined) {
      throw new Error('a fault needs status, reset or delayMs');
    }
    const times = spec.times === undefined ? 1 : spec.times < 0 ? Number.POSITIVE_INFINITY : spec.times;
    if (!(times > 0)) throw new Error('times must be positive');
    const path = spec.path ?? '*';
    const id = this.#nextId++;
    this.#rules.push({
      id,
      spec,
      pathRe: typeof path === 'string' ? globToRegExp(path) : path,
      hits: 0,
      remaining: times,
    });
    return id;
  }

  /** Shorthand: answer the next `times` requests matching `method` and `path` with `status`. */
  failNext(
    times: number,
    status: number,
    match: { method?: string; path?: string | RegExp; bodyIncludes?: string } = {},
    extra: Pick<FaultSpec, 'body' | 'contentType' | 'retryAfter' | 'headers' | 'delayMs'> = {},
  ): number {
    return this.add({ ...match, ...extra, status, times });
  }

  /** Shorthand: reset the connection of the next `times` matching requests. */
  resetNext(times: number, match: { method?: string; path?: string | RegExp } = {}): number {
    return this.add({ ...match, reset: true, times });
  }

  /** Shorthand: hold the headers of the next `times` matching requests for `ms`, then answer normally. */
  delayNext(times: number, ms: number, match: { method?: string; path?: string | RegExp } = {}): number {
    return this.add({ ...match, delayMs: ms, times });
  }

  /** Shorthand: answer the next matching request with a body that is not JSON. */
  malformedNext(
    times = 1,
    match: { method?: string; path?: string | RegExp } = {},
    body = '{"resources": [ <html>truncated',
  ): number {
    return this.add({ ...match, status: 200, body, times });
  }

  /** Every bearer token issued so far is expired from now on (the next call gets a 401). */
  expireAllTokens(): void {
    this.#expireAll();
  }

  /** Finds and consumes the rule for a request, if any. */
  take(method: string, path: string, body: string): FaultSpec | undefined {
    for (const rule of this.#rules) {
      if (rule.remaining <= 0) continue;
      if (rule.spec.method && rule.spec.method.toUpperCase() !== method) continue;
      if (!rule.pathRe.test(path)) continue;
      if (rule.spec.bodyIncludes !== undefined && !body.includes(rule.spec.bodyIncludes)) continue;
      rule.remaining -= 1;
      rule.hits += 1;
      return rule.spec;
    }
    return undefined;
  }

  /** Every rule with its hits and remaining count. */
  list(): FaultRuleState[] {
    return this.#rules.map((r) => ({ id: r.id, spec: r.spec, hits: r.hits, remaining: r.remaining }));
  }

  /** Finite rules with hits left (unlimited rules never count as pending). */
  pending(): FaultRuleState[] {
    return this.list().filter((r) => r.remaining > 0 && Number.isFinite(r.remaining));
  }

  /** Throws when a finite rule still has hits left: a fault the test set up never happened. */
  assertAllConsumed(): void {
    const left = this.pending();
    if (left.length > 0) {
      const what = left.map(
        (r) => `#${r.id} ${r.spec.method ?? '*'} ${String(r.spec.path ?? '*')} (${r.remaining} left)`,
      );
      throw new Error(`unconsumed simulator faults: ${what.join(', ')}`);
    }
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules = [];
  }
}
