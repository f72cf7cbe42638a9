/** The shape of a fault rule, its vocabulary and its validation (used by `Faults` and `POST /__sim/faults`). */

/** How an echoing answer wraps the request it echoes (see `FaultSpec.echo`). */
export type EchoFormat = 'json' | 'text' | 'html' | 'urlencoded';
export const ECHO_FORMATS: readonly EchoFormat[] = ['json', 'text', 'html', 'urlencoded'];

/** What an echoing answer repeats: the request body, or the body and the Authorization header value. */
export type EchoWhat = 'body' | 'body+authorization';
export const ECHO_WHATS: readonly EchoWhat[] = ['body', 'body+authorization'];

/**
 * How `tamper` alters the real answer: `missing-arn` drops `aws_param.Arn`, `non-uuid-id` sets
 * `id` to `not-a-uuid`, `other-id` sets `id` to another UUID than the one asked for (on a listing:
 * of one record, `tamperIndex`); `ignore-keystate` answers a listing as if no `keystate` filter
 * had been sent (every key).
 */
export type Tamper = 'missing-arn' | 'non-uuid-id' | 'other-id' | 'ignore-keystate';
export const TAMPERS: readonly Tamper[] = ['missing-arn', 'non-uuid-id', 'other-id', 'ignore-keystate'];

/** Path glob of the cancel route, the default target of `loseAnswerNext` and `refuseCancelNext`. */
export const CANCEL_PATH = '/api/v1/cckm/aws/keys/*/cancel-deletion';

/** Which requests a shorthand's rule takes. */
export interface FaultMatch {
  readonly method?: string;
  readonly path?: string | RegExp;
  readonly bodyIncludes?: string;
}

/**
 * A fault rule. At least one of `status`, `reset`, `delayMs`, `echo`, `kmsError` or `tamper` says
 * what to do.
 */
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
  /**
   * Answer with text that repeats the request (as some proxies and error pages do): its raw body,
   * and with `body+authorization` the Authorization header value too. Status: `status`, default
   * 502. Wrapped as `echoFormat` says; `body` is then ignored.
   */
  readonly echo?: EchoWhat;
  /**
   * `json` (default): a CM error `{"code","codeDesc","message":"<echo>"}` (JSON-escaped on the
   * wire); `text`: `text/plain`; `html`: an HTML error page (unescaped); `urlencoded`: form-encoded
   * `error=<status>&request=<encoded>[&authorization=<encoded>]`.
   */
  readonly echoFormat?: EchoFormat;
  /**
   * The request takes effect first (the real handler runs: a cancel cancels), then the answer is
   * lost: `status` (with `body` / `echo`) or `reset` is sent instead of the real answer.
   */
  readonly takeEffect?: boolean;
  /**
   * Refuse as KMS does through CCKM, changing nothing: `status` (default 400) with
   * `{"code":10,"codeDesc":"NCERRBadRequest","message":"<kmsException>: <kmsError>"}`. `{arn}`,
   * `{id}` and `{keyId}` in the text become those of the key in the path, e.g.
   * `{arn} is pending deletion.` or `{arn} is pending import.`
   */
  readonly kmsError?: string;
  /** Exception name of `kmsError`; default `KMSInvalidStateException`. */
  readonly kmsException?: string;
  /** Alter the real answer (see `Tamper`); the request is handled normally otherwise. */
  readonly tamper?: Tamper;
  /** Which record of a listing's page `tamper` alters; default 0, past the end: the last. */
  readonly tamperIndex?: number;
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

const oneOf = <T extends string>(name: string, v: unknown, allowed: readonly T[]): void => {
  if (v !== undefined && !allowed.includes(v as T)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}`);
  }
};

/** Refuses a rule that does nothing or combines effects that exclude each other. */
export function validateSpec(spec: FaultSpec): void {
  const replaces = spec.status !== undefined || spec.reset === true || spec.echo !== undefined;
  if (!replaces && spec.delayMs === undefined && spec.kmsError === undefined && spec.tamper === undefined) {
    throw new Error('a fault needs status, reset or delayMs (or echo, kmsError, tamper)');
  }
  if (
    spec.status !== undefined &&
    (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)
  ) {
    throw new Error('status must be an HTTP status (100-599)');
  }
  if (spec.delayMs !== undefined && (!Number.isFinite(spec.delayMs) || spec.delayMs < 0)) {
    throw new Error('delayMs must be a non-negative number');
  }
  oneOf('echo', spec.echo, ECHO_WHATS);
  oneOf('echoFormat', spec.echoFormat, ECHO_FORMATS);
  oneOf('tamper', spec.tamper, TAMPERS);
  if (spec.echoFormat !== undefined && spec.echo === undefined) throw new Error('echoFormat needs echo');
  if (spec.reset && (spec.status !== undefined || spec.echo !== undefined)) {
    throw new Error('reset sends no answer: do not combine it with status or echo');
  }
  if (spec.takeEffect && !replaces)
    throw new Error('takeEffect needs status, echo or reset (the lost answer)');
  if (spec.kmsError !== undefined) {
    if (typeof spec.kmsError !== 'string' || spec.kmsError === '') throw new Error('kmsError must be a text');
    if (spec.reset || spec.echo !== undefined || spec.takeEffect || spec.tamper !== undefined) {
      throw new Error(
        'kmsError is an answer of its own: do not combine it with reset, echo, takeEffect or tamper',
      );
    }
  }
  if (spec.kmsException !== undefined && spec.kmsError === undefined)
    throw new Error('kmsException needs kmsError');
  if (spec.tamper !== undefined && replaces) {
    throw new Error('tamper alters the real answer: do not combine it with status, reset or echo');
  }
  if (spec.tamperIndex !== undefined) {
    if (spec.tamper === undefined) throw new Error('tamperIndex needs tamper');
    if (!Number.isInteger(spec.tamperIndex) || spec.tamperIndex < 0) {
      throw new Error('tamperIndex must be a non-negative integer');
    }
  }
}
