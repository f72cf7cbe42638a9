/**
 * Fault injection: rules that take over the next N requests matching a method, a path pattern and
 * optionally a body fragment. Rules are consumed in the order they were added; the first matching
 * rule with hits left applies. The same shape is accepted over HTTP at `POST /__sim/faults`.
 */

import {
  CANCEL_PATH,
  type EchoFormat,
  type FaultMatch,
  type FaultRuleState,
  type FaultSpec,
  type Tamper,
  validateSpec,
} from './fault-spec.ts';

export type { EchoFormat, EchoWhat, FaultMatch, FaultRuleState, FaultSpec, Tamper } from './fault-spec.ts';
export {
  CANCEL_PATH,
  defaultErrorBody,
  ECHO_FORMATS,
  ECHO_WHATS,
  TAMPERS,
  validateSpec,
} from './fault-spec.ts';

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

  /** Adds a rule; returns its id (see `pending()`). Throws, naming the field, on a rule that cannot work. */
  add(spec: FaultSpec): number {
    validateSpec(spec);
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

  /**
   * Shorthand: the next `times` matching requests get `status` with text that echoes the request
   * body (and, with `authorization`, the Authorization header value), as JSON or an error page.
   */
  echoNext(
    times: number,
    status: number,
    match: FaultMatch = {},
    opts: { authorization?: boolean; format?: EchoFormat } = {},
  ): number {
    return this.add({
      ...match,
      status,
      times,
      echo: opts.authorization ? 'body+authorization' : 'body',
      ...(opts.format ? { echoFormat: opts.format } : {}),
    });
  }

  /**
   * Shorthand: the next `times` matching requests (default: cancels) take effect, then their answer
   * is lost: `answer` status (default 504) or `'reset'` (the connection drops).
   */
  loseAnswerNext(
    times = 1,
    match: FaultMatch = { method: 'POST', path: CANCEL_PATH },
    answer: number | 'reset' = 504,
  ): number {
    return this.add({
      ...match,
      times,
      takeEffect: true,
      ...(answer === 'reset' ? { reset: true } : { status: answer }),
    });
  }

  /**
   * Shorthand: refuse the next `times` cancels (or `opts.match`) with a KMS text, changing nothing;
   * e.g. `refuseCancelNext(1, '{arn} is pending deletion.')` (the default text).
   */
  refuseCancelNext(
    times = 1,
    text = '{arn} is pending deletion.',
    opts: { exception?: string; status?: number; match?: FaultMatch } = {},
  ): number {
    return this.add({
      ...(opts.match ?? { method: 'POST', path: CANCEL_PATH }),
      times,
      kmsError: text,
      ...(opts.exception ? { kmsException: opts.exception } : {}),
      ...(opts.status === undefined ? {} : { status: opts.status }),
    });
  }

  /** Shorthand: alter the real answer of the next `times` matching requests (see `Tamper`). */
  tamperNext(times: number, tamper: Tamper, match: FaultMatch = {}, index?: number): number {
    return this.add({ ...match, times, tamper, ...(index === undefined ? {} : { tamperIndex: index }) });
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
