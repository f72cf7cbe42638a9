import { AuthenticationError, type CmErrorDetail, NotFoundError, UpstreamError } from '../shared/errors.ts';
import { isJsonObject } from '../shared/json.ts';
import { type CmResponse, detailOf, isCmFailure, upstreamErrorOf } from './cm-http.ts';

/**
 * How the key operations read CipherTrust Manager's answers: the one mapper of a key call (404, "not
 * pending", any other failure), the JSON of a successful answer, and the envelope of a list answer.
 */

/** A CM list answer's envelope: `total` a count, `resources` an array or null; undefined otherwise. */
export function listEnvelopeOf(json: unknown): { total: number; resources: unknown[] | null } | undefined {
  if (!isJsonObject(json)) return undefined;
  const { total, resources } = json;
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) return undefined;
  return Array.isArray(resources) || resources === null ? { total, resources } : undefined;
}

/**
 * AWS's text when a cancel meets a key that is not pending deletion, however CM wraps it. Only these
 * words: a refusal saying the key *is* pending deletion (or pending import) is a failure.
 */
export function isNotPendingDetail(detail: CmErrorDetail): boolean {
  return /\bis not pending deletion\b/i.test(`${detail.codeDesc ?? ''} ${detail.cmMessage ?? ''}`);
}

function failure(response: CmResponse, label: string): UpstreamError {
  const error = upstreamErrorOf(response, label);
  if (response.status !== 403) return error;
  return new UpstreamError(`${error.message} (check the service account's CCKM ACLs)`, error.detail);
}

/** The error for an answer CM sent in a shape it should not have (`what` says which). */
export function malformed(label: string, what: string, response: CmResponse): UpstreamError {
  return new UpstreamError(`CipherTrust Manager answered ${label} with ${what}`, { status: response.status });
}

/** The JSON of a successful answer, or the typed error for a failed or unreadable one. */
export function okJson(response: CmResponse, label: string): unknown {
  if (isCmFailure(response)) throw failure(response, label);
  if (response.notJson || response.json === undefined)
    throw malformed(label, 'a body that is not JSON', response);
  return response.json;
}

/** A call's result as the key mapper reads it: CM's answer, or the error the session threw. */
export type Sent = { readonly response: CmResponse } | { readonly error: unknown };

/**
 * The one reading of a key call: 404 is NotFoundError; "not pending" is an answer where the call can
 * meet it (`notPendingOk`), whether CM said so outright or in the last of its retried answers; any
 * other failure is an UpstreamError.
 */
export function readKeyAnswer(
  sent: Sent,
  label: string,
  id: string,
  notPendingOk: boolean,
): CmResponse | 'not-pending' {
  if ('error' in sent) {
    const { error } = sent;
    const notPending =
      error instanceof UpstreamError &&
      !(error instanceof AuthenticationError) &&
      isNotPendingDetail(error.detail);
    if (notPendingOk && notPending) return 'not-pending';
    throw error;
  }
  const { response } = sent;
  if (response.status === 404) throw new NotFoundError(`CCKM does not know key ${id}`);
  if (!isCmFailure(response)) return response;
  if (notPendingOk && isNotPendingDetail(detailOf(response))) return 'not-pending';
  throw failure(response, label);
}
