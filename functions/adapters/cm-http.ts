import type { Dispatcher } from 'undici';
import { type CmErrorDetail, UpstreamError } from '../shared/errors.ts';
import { isJsonObject } from '../shared/json.ts';
import type { CallBudget } from './call-budget.ts';
import type { PreparedCmRequest } from './cm-path.ts';
import { type Redactor, redactAndClip } from './redact.ts';
import { errorCode } from './retry.ts';

/**
 * One HTTP exchange with CipherTrust Manager (its path: `cm-path.ts`): the house headers,
 * a size-capped body, and the CM error body read into a CmErrorDetail.
 */

/** A hostile server must not be able to exhaust the function's memory. */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const MAX_CM_MESSAGE = 500;

export type QueryValue = string | number | boolean | readonly string[];

export interface CmRequest {
  readonly method: 'GET' | 'POST';
  /** Path under the origin, built from validated ids only, e.g. `/api/v1/cckm/aws/keys/<uuid>`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue | undefined>>;
  /** JSON body; absent means no body and no Content-Type. */
  readonly body?: unknown;
}

export interface CmResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON, or undefined for an empty or unparsable body. */
  readonly json: unknown;
  /** True when a non-empty body was not JSON (a proxy's HTML page, say). */
  readonly notJson: boolean;
  /**
   * A failed answer's detail, already redacted by the session that received it (contract section 2):
   * every reader of a failure takes its text from here, never from `json`.
   */
  readonly detail?: CmErrorDetail;
  /**
   * True when an earlier attempt of the same call failed after the request may have reached CM (a
   * 502/503/504 or a network error): a state-changing call may then have taken effect already.
   */
  readonly ambiguous?: boolean;
}

/** Parses a JSON body leniently: empty or unparsable is undefined, and `notJson` says which. */
export function parseJsonBody(text: string): { readonly json: unknown; readonly notJson: boolean } {
  // Parsed first: a body that parses is the common case, and only a failure needs the blank check.
  try {
    return { json: JSON.parse(text), notJson: false };
  } catch {
    return { json: undefined, notJson: text.trim() !== '' };
  }
}

const keep: Redactor = (text) => text;

/** A `codeDesc` name (`NCERRResourceNotFound`) and nothing else: the token endpoint's answers copy no text. */
const CODE_DESC_NAME = /^NCERR[A-Za-z]{1,60}$/;

/**
 * Reads CM's error shape (`code`, `codeDesc` `NCERR<Name>[: text]`, `message`) from a body; undefined
 * when the body carries no `codeDesc`. Text is redacted first, then clipped: clipping first could cut a
 * credential below the length the redactor recognises.
 */
export function cmErrorOf(json: unknown, redact: Redactor = keep): Omit<CmErrorDetail, 'status'> | undefined {
  if (!isJsonObject(json)) return undefined;
  const { codeDesc, message } = json;
  if (codeDesc === undefined || codeDesc === null) return undefined;
  const desc = String(codeDesc);
  const colon = desc.indexOf(':');
  const name = (colon >= 0 ? desc.slice(0, colon) : desc).trim();
  const rest = colon >= 0 ? desc.slice(colon + 1).trim() : '';
  const text = typeof message === 'string' && message.trim() !== '' ? message.trim() : rest;
  return {
    codeDesc: redactAndClip(name, redact, MAX_CM_MESSAGE),
    ...(text !== '' && { cmMessage: redactAndClip(text, redact, MAX_CM_MESSAGE) }),
  };
}

/** True when the response is a failure: a non-2xx status, or a `codeDesc` even on a 2xx. */
export function isCmFailure(response: CmResponse): boolean {
  return response.status < 200 || response.status >= 300 || cmErrorOf(response.json) !== undefined;
}

/**
 * The error detail of a response: the session's redacted detail when it attached one, else status plus
 * whatever CM's error body said, redacted with `redact`.
 */
export function detailOf(response: CmResponse, redact: Redactor = keep): CmErrorDetail {
  if (response.detail) return response.detail;
  const cm = cmErrorOf(response.json, redact);
  if (cm) return { status: response.status, ...cm };
  // A non-CM error body (a proxy's, say) may still carry a readable message.
  const message = (response.json as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message.trim() !== ''
    ? { status: response.status, cmMessage: redactAndClip(message.trim(), redact, MAX_CM_MESSAGE) }
    : { status: response.status };
}

/**
 * The detail of an answer from the token endpoint, whose text may echo the credential just sent: the
 * status and the `codeDesc` name only, never a message (contract section 2).
 */
export function tokenEndpointDetailOf(response: CmResponse): CmErrorDetail {
  const name = cmErrorOf(response.json)?.codeDesc;
  return name !== undefined && CODE_DESC_NAME.test(name)
    ? { status: response.status, codeDesc: name }
    : { status: response.status };
}

/** Builds the UpstreamError for a failed response; the message names the call, status and codeDesc. */
export function upstreamErrorOf(
  response: CmResponse,
  label: string,
  detail: CmErrorDetail = detailOf(response),
): UpstreamError {
  const parts = [`${detail.status}`, detail.codeDesc, detail.cmMessage].filter(Boolean).join(' ');
  return new UpstreamError(`CipherTrust Manager failed ${label}: ${parts}`, detail);
}

/** Wraps a transport failure; only the error code goes into the message, never request details. */
export function networkErrorOf(error: unknown, label: string): UpstreamError {
  const code = errorCode(error) ?? (error instanceof Error ? error.name : 'unknown error');
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return tooLarge(MAX_RESPONSE_BYTES);
  const tls = /CERT|SELF_SIGNED|TLS|SSL|ALTNAME|UNABLE_TO/i.test(code);
  const what = tls ? 'TLS verification of CipherTrust Manager failed' : 'CipherTrust Manager unreachable';
  return new UpstreamError(`${what} (${code}) during ${label}`, {}, { cause: error });
}

function tooLarge(limit: number): UpstreamError {
  return new UpstreamError(`CipherTrust Manager sent a response body larger than ${limit} bytes`);
}

/**
 * Reads one answer as undici hands it over: status, headers and the body's bytes up to `limit` (a larger
 * body, declared or counted, ends the request with an UpstreamError). A handler of undici's `dispatch`
 * rather than `request()`, which wraps every body in a Readable stream and the budget in an abort
 * listener: together 5-15 us of each warm request (BENCHMARKS.md "Misses"). Settles once: undici's
 * MockAgent still delivers the body after an abort.
 */
class CmAnswerReader implements Dispatcher.DispatchHandler {
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  /** The budget ran out before undici started the request (it waited for a free connection). */
  #abortedEarly: Error | undefined;
  #status = 0;
  #headers: CmResponse['headers'] = {};
  #chunks: Buffer[] = [];
  #size = 0;
  readonly #budget: CallBudget;
  readonly #limit: number;
  readonly #resolve: (response: CmResponse) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    budget: CallBudget,
    limit: number,
    resolve: (response: CmResponse) => void,
    reject: (error: unknown) => void,
  ) {
    this.#budget = budget;
    this.#limit = limit;
    this.#resolve = resolve;
    this.#reject = reject;
    // Watched from the dispatch on, not from the start: a request queued behind busy connections
    // still ends with its budget, and is dropped unsent when its turn comes.
    budget.watch((reason) => {
      if (this.#controller) this.#controller.abort(reason);
      else {
        this.#abortedEarly = reason;
        this.onResponseError(undefined, reason);
      }
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortedEarly) controller.abort(this.#abortedEarly);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: CmResponse['headers'],
  ): void {
    const length = headers['content-length'];
    const declared = Number(Array.isArray(length) ? length[0] : length);
    if (Number.isFinite(declared) && declared > this.#limit) {
      controller.abort(tooLarge(this.#limit));
      return;
    }
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      controller.abort(tooLarge(this.#limit));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#budget.watch(undefined);
    const chunks = this.#chunks;
    const text =
      chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
    const { json, notJson } = parseJsonBody(text);
    this.#resolve({ status: this.#status, headers: this.#headers, json, notJson });
  }

  onResponseError(_controller: unknown, error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#budget.watch(undefined);
    this.#reject(error);
  }
}

/**
 * Sends one request and reads the capped body; transport failures are rejected as they are, and the
 * budget running out ends the request with its reason.
 */
export function sendOnce(
  dispatcher: Dispatcher,
  origin: string,
  request: PreparedCmRequest,
  bearer: string | undefined,
  budget: CallBudget,
  limit = MAX_RESPONSE_BYTES,
): Promise<CmResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    if (budget.reason !== undefined) {
      reject(budget.reason); // spent already: nothing is sent
      return;
    }
    dispatcher.dispatch(
      {
        origin,
        path: request.target,
        method: request.method,
        headers,
        body: request.body,
      },
      new CmAnswerReader(budget, limit, resolve, reject),
    );
  });
}
