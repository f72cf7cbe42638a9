import { parseCckmId } from '../domain/aws-key-ref.ts';
import { isPendingDeletion, type ManagedKey } from '../domain/managed-key.ts';
import type { CallOptions, CancelResult, CckmApi } from '../domain/ports.ts';
import type { ConnectionConfig } from '../shared/config.ts';
import { logger as defaultLogger } from '../shared/logger.ts';
import { malformed, okJson, readKeyAnswer, type Sent } from './cckm-answer.ts';
import { createKeyListing, KEYS_PATH, MAX_PAGES } from './cckm-listing.ts';
import { managedKeyOf } from './cckm-record.ts';
import { startSynchronization } from './cckm-sync.ts';
import type { CmRequest, CmResponse } from './cm-http.ts';
import { type CckmClientDeps, type CckmClientStats, createCmSession } from './cm-session.ts';

/**
 * The CipherTrust Manager client: the key operations of reference/cckm-api.md over one session
 * (`cm-session.ts`), behind the domain's CckmApi port. Every CM record is mapped into a ManagedKey here
 * and in the listings (`cckm-listing.ts`); synchronization jobs are `cckm-sync.ts`.
 */

export interface CckmClient extends CckmApi {
  stats(): CckmClientStats;
  /** Closes the Agent (tests, local runs); a Lambda container just keeps it. */
  close(): Promise<void>;
}

interface KeyResponse {
  readonly response: CmResponse;
  readonly label: string;
}
/** `maybe-cancelled`: "not pending deletion", but after an attempt whose answer was lost (it may have cancelled). */
type KeyAnswer = KeyResponse | 'not-pending' | 'maybe-cancelled';

/** CCKM ids are UUIDs: compared without regard to case. */
function sameId(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** The key record an action answered with, when it is one and about the key asked for. */
function ownRecord(json: unknown, id: string): ManagedKey | undefined {
  const key = managedKeyOf(json);
  return key && sameId(key.cckmId, id) ? key : undefined;
}

/** Creates the CipherTrust Manager client; warns once when TLS verification is off. */
export function createCckmClient(config: ConnectionConfig, deps: CckmClientDeps): CckmClient {
  const log = deps.logger ?? defaultLogger;
  const session = createCmSession(config, deps);
  const listing = createKeyListing(session, { maxPages: deps.maxPages ?? MAX_PAGES, log });

  /** Calls a key's path (`GET` the key, or `POST` an action) and reads the answer with the one mapper. */
  async function keyCall(id: unknown, action: 'cancel-deletion', options?: CallOptions): Promise<KeyAnswer>;
  async function keyCall(id: unknown, action: 'enable' | 'read', options?: CallOptions): Promise<KeyResponse>;
  async function keyCall(
    id: unknown,
    action: 'cancel-deletion' | 'enable' | 'read',
    options?: CallOptions,
  ): Promise<KeyAnswer> {
    const cckmId = parseCckmId(id);
    const base = `${KEYS_PATH}/${encodeURIComponent(cckmId)}`;
    const request: CmRequest =
      action === 'read' ? { method: 'GET', path: base } : { method: 'POST', path: `${base}/${action}` };
    const label = `${request.method} ${request.path}`;
    let sent: Sent;
    try {
      sent = { response: await session.call(request, label, options) };
    } catch (error) {
      sent = { error };
    }
    const answer = readKeyAnswer(sent, label, cckmId, action === 'cancel-deletion');
    if (answer !== 'not-pending') return { response: answer, label };
    // "Not pending" read from a thrown error came after retried failures: as ambiguous as a lost answer.
    return 'error' in sent || sent.response.ambiguous ? 'maybe-cancelled' : 'not-pending';
  }

  async function getKey(id: string, options?: CallOptions): Promise<ManagedKey> {
    const { response, label } = await keyCall(id, 'read', options);
    const key = managedKeyOf(okJson(response, label));
    if (!key) throw malformed(label, 'a malformed key record', response);
    // A cancel goes to the id CCKM names: an answer about another key must not redirect it.
    if (!sameId(key.cckmId, id)) throw malformed(label, 'the record of another key', response);
    return key;
  }

  return {
    getKey,
    findAwsKey: listing.findAwsKey,
    listPendingDeletion: listing.listPendingDeletion,

    async cancelDeletion(id, options): Promise<CancelResult> {
      const answer = await keyCall(id, 'cancel-deletion', options);
      if (answer === 'not-pending') return { outcome: 'not-pending' };
      if (answer === 'maybe-cancelled') {
        // An earlier attempt may have cancelled before its answer was lost: the key's record after the
        // request decides. No longer pending means this request cancelled it (contract section 3).
        const after = await getKey(id, options);
        return isPendingDeletion(after) ? { outcome: 'not-pending' } : { outcome: 'cancelled', key: after };
      }
      // The docs say the answer is the key record, but that was never seen: a 2xx is the cancel.
      const key = ownRecord(answer.response.json, id);
      return key ? { outcome: 'cancelled', key } : { outcome: 'cancelled' };
    },

    async enableKey(id, options) {
      const { response } = await keyCall(id, 'enable', options);
      return ownRecord(response.json, id);
    },

    startSynchronization: (request, options) => startSynchronization(session, request, options),
    stats: session.stats,
    close: session.close,
  };
}
