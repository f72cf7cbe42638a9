import { type CmResponse, detailOf, isCmFailure, tokenEndpointDetailOf } from './cm-http.ts';
import type { PreparedCmRequest } from './cm-path.ts';
import type { CckmSecret } from './credentials.ts';
import { createRedactor, type Redactor } from './redact.ts';
import { TOKENS_PATH } from './tokens.ts';

/**
 * The detail of CipherTrust Manager's failed answers, scrubbed of what the session sent: the secret's
 * credential and the JWT. Nothing reads a failed answer before it has its detail.
 */

/** Attaches the scrubbed detail to a failed answer; a successful one is returned as it is. */
export type FailureDescriber = (
  response: CmResponse,
  request: PreparedCmRequest,
  secret: CckmSecret,
  bearer: string | undefined,
) => CmResponse;

/** The credential values of a secret, so CM's answers can be scrubbed of them. */
function credentialValues(secret: CckmSecret): string[] {
  const c = secret.credential;
  return c.type === 'refresh_token' ? [c.refreshToken] : c.type === 'password' ? [c.password] : [c.token];
}

/**
 * A describer of failed answers: the token endpoint's text is never copied (status and codeDesc
 * name only), any other answer's text is redacted of the secret's credential and the JWT it was sent with.
 */
export function createFailureDescriber(): FailureDescriber {
  // Built only when a failure must be described, and kept for the next one with the same secret and JWT.
  let redaction: { secret: CckmSecret; bearer: string | undefined; redact: Redactor } | undefined;
  function redactorFor(secret: CckmSecret, bearer: string | undefined): Redactor {
    if (redaction?.secret !== secret || redaction.bearer !== bearer) {
      redaction = { secret, bearer, redact: createRedactor([...credentialValues(secret), bearer]) };
    }
    return redaction.redact;
  }

  return (response, request, secret, bearer) => {
    if (!isCmFailure(response)) return response;
    const tokenEndpoint = request.target === TOKENS_PATH || bearer === undefined;
    const detail = tokenEndpoint
      ? tokenEndpointDetailOf(response)
      : detailOf(response, redactorFor(secret, bearer));
    return { ...response, detail };
  };
}
