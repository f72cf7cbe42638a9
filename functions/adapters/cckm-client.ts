import { type AwsKeyRef, isRegion, parseCckmId, parseKeyIdRef } from '../domain/aws-key-ref.ts';
import { isPendingDeletion, type ManagedKey, PENDING_STATES } from '../domain/managed-key.ts';
import type {
  CallOptions,
  CancelResult,
  CckmApi,
  PageInfo,
  SynchronizationStart,
  UnreadableKey,
} from '../domain/ports.ts';
import type { ConnectionConfig } from '../shared/config.ts';
import {
  AuthenticationError,
  type CmErrorDetail,
  NotFoundError,
  UpstreamError,
  ValidationError,
} from '../shared/errors.ts';
import { logger as defaultLogger } from '../shared/logger.ts';
import { type CckmRecord, managedKeyOf, parseCckmRecord, toManagedKey } from './cckm-record.ts';
import {
  type CmRequest,
  type CmResponse,
  detailOf,
  isCmFailure,
  isJsonObject,
  upstreamErrorOf,
} from './cm-http.ts';
import { type CckmClientDeps, type CckmClientStats, createCmSession } from './cm-session.ts';

export type { CckmClientDeps, CckmClientStats, CmLogger } from './cm-session.ts';

/**
 * The CipherTrust Manager client: the key operations of reference/cckm-api.md over one session
 * (`cm-session.ts`), behind the domain's CckmApi port. Every CM record is mapped into a ManagedKey here.
 */

export interface CckmClient extends CckmApi {
  stats(): CckmClientStats;
  /** Closes the Agent (tests, local runs); a Lambda container just keeps it. */
  close(): Promise<void>;
}

/** Page size of list calls; CM's default of 10 would mean many round trips. */
export const PAGE_SIZE = 100;
/** A listing pass longer than this is treated as a CM fault, not looped over forever. */
export const MAX_PAGES = 200;
/** Passes over the pending set when it changed while being listed. */
const MAX_PASSES = 3;
const KEYS_PATH = '/api/v1/cckm/aws/keys';
const SYNC_JOBS_PATH = '/api/v1/cckm/aws/synchronization-jobs';
// The listing's filter and the check of each listed record (isPendingDeletion) share one set of states.
const PENDING_KEY_STATES: readonly string[] = [...PENDING_STATES];

/** A CM list answer's envelope: `total` a count, `resources` an array or null; undefined otherwise. */
function listEnvelopeOf(json: unknown): { total: number; resources: unknown[] | null } | undefined {
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

function malformed(label: string, what: string, response: CmResponse): UpstreamError {
  return new UpstreamError(`CipherTrust Manager answered ${label} with ${what}`, { status: response.status });
}

/** The JSON of a successful answer, or the typed error for a failed or unreadable one. */
function okJson(response: CmResponse, label: string): unknown {
  if (isCmFailure(response)) throw failure(response, label);
  if (response.notJson || response.json === undefined)
    throw malformed(label, 'a body that is not JSON', response);
  return response.json;
}

interface KeyResponse {
  readonly response: CmResponse;
  readonly label: string;
}
/** `maybe-cancelled`: "not pending deletion", but after an attempt whose answer was lost (it may have cancelled). */
type KeyAnswer = KeyResponse | 'not-pending' | 'maybe-cancelled';

/** A call's result as the key mapper reads it: CM's answer, or the error the session threw. */
type Sent = { readonly response: CmResponse } | { readonly error: unknown };

/**
 * The one reading of a key call: 404 is NotFoundError; "not pending" is an answer where the call can
 * meet it (`notPendingOk`), whether CM said so outright or in the last of its retried answers; any
 * other failure is an UpstreamError.
 */
function readKeyAnswer(
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

const UNREADABLE_REASON =
  'the CCKM record could not be read (a missing or malformed id, region, aws_param.KeyID, Arn or KeyState)';

/** A short printable text from a record that failed its schema, for a person to find the key by. */
function shownText(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\x20-\x7e]{1,256}$/.test(value) ? value : undefined;
}

/**
 * A listed item that failed the record schema, with what identity it has; undefined when it shows a
 * state that is not pending (a CM that ignored the filter) and so is no key of the sweep.
 */
function unreadableOf(item: unknown): UnreadableKey | undefined {
  const record = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const param = (
    typeof record.aws_param === 'object' && record.aws_param !== null ? record.aws_param : {}
  ) as Record<string, unknown>;
  const state = shownText(param.KeyState);
  if (state !== undefined && !PENDING_STATES.has(state)) return undefined;
  const fields = {
    cckmId: shownText(record.id),
    keyId: shownText(param.KeyID),
    arn: shownText(param.Arn),
    account: shownText(param.AWSAccountId),
    region: shownText(record.region),
  };
  const identity = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return { unreadable: true, identity: { ...identity, aliases: [] }, reason: UNREADABLE_REASON };
}

/** CCKM ids are UUIDs: compared without regard to case. */
function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The key record an action answered with, when it is one and about the key asked for. */
function ownRecord(json: unknown, id: string): ManagedKey | undefined {
  const key = managedKeyOf(json);
  return key && sameId(key.cckmId, id) ? key : undefined;
}

/** The one match, undefined for none, UpstreamError when CCKM holds several records or more than it sent. */
function single(matches: readonly CckmRecord[], incomplete: boolean, what: string): CckmRecord | undefined {
  if (!incomplete && matches.length <= 1) return matches[0];
  const ids = matches.map((k) => `${k.id} (kms ${k.kms ?? k.kms_id ?? 'unknown'})`).join(', ');
  throw new UpstreamError(
    `CCKM holds more than one record for ${what}: ${ids || 'more than one page of matches'}; the account does not tell them apart`,
  );
}

/** Creates the CipherTrust Manager client; warns once when TLS verification is off. */
export function createCckmClient(config: ConnectionConfig, deps: CckmClientDeps): CckmClient {
  const log = deps.logger ?? defaultLogger;
  const session = createCmSession(config, deps);
  const maxPages = deps.maxPages ?? MAX_PAGES;

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

  /**
   * One page. A record that fails the schema throws for a lookup (`unreadable` absent), or is handed
   * back as an UnreadableKey for a listing, so one bad record does not hide the others.
   */
  async function listOnce(
    query: CmRequest['query'],
    options: CallOptions | undefined,
    unreadable?: UnreadableKey[],
  ): Promise<{ records: CckmRecord[]; total: number; items: number }> {
    const label = `GET ${KEYS_PATH}`;
    const response = await session.call({ method: 'GET', path: KEYS_PATH, query }, label, options);
    const envelope = listEnvelopeOf(okJson(response, label));
    if (!envelope) throw malformed(label, 'a malformed list', response);
    const items = envelope.resources ?? [];
    const records: CckmRecord[] = [];
    for (const item of items) {
      const record = parseCckmRecord(item);
      if (record) records.push(record);
      else if (!unreadable) throw malformed(label, 'a malformed key record', response);
      else {
        const bad = unreadableOf(item);
        if (bad) unreadable.push(bad);
      }
    }
    return { records, total: envelope.total, items: items.length };
  }

  /** Reads every page of pending keys into `found`; throws on a CM failure or past the page cap. */
  async function listPendingInto(
    found: Map<string, ManagedKey>,
    unreadable: Map<string, UnreadableKey>,
    options: CallOptions & { onPage?: (info: PageInfo) => void; regions?: readonly string[] },
  ): Promise<number> {
    // Regions go into the query string: checked here, whatever the caller already checked.
    const regions = regionList(options.regions);
    let page = 0;
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      const before = found.size;
      let firstTotal: number | undefined;
      let moved = false;
      // The cap bounds one pass: a set that moved is listed again in full, not cut by earlier passes.
      for (let skip = 0, pagesThisPass = 0; ; pagesThisPass++) {
        if (pagesThisPass >= maxPages) {
          throw new UpstreamError(
            `listing incomplete: CipherTrust Manager listed more than ${maxPages} pages of pending keys in one pass`,
          );
        }
        const bad: UnreadableKey[] = [];
        const { records, total, items } = await listOnce(
          { keystate: PENDING_KEY_STATES, ...(regions && { region: regions }), skip, limit: PAGE_SIZE },
          options,
          bad,
        );
        for (const item of bad) unreadable.set(item.identity.cckmId ?? item.identity.arn ?? `#${skip}`, item);
        page++;
        firstTotal ??= total;
        if (total !== firstTotal) moved = true;
        for (const record of records) {
          const key = toManagedKey(record);
          // A CM that ignored the filter must not turn a sweep into a sweep of every key.
          if (isPendingDeletion(key) && (!regions || regions.includes(key.region)))
            found.set(key.cckmId, key);
        }
        options.onPage?.({ page, fetched: found.size, total });
        skip += items;
        if (items === 0 || skip >= total) break;
      }
      // The set changed while it was listed: list again until a pass brings nothing new.
      if (!moved || (pass > 1 && found.size === before)) break;
    }
    return page;
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

    async findAwsKey(ref: AwsKeyRef, options?: CallOptions) {
      // The ids go into the query string: checked here, whatever the caller already checked.
      const { keyId, region, account } = parseKeyIdRef(ref?.keyId, ref?.region, ref?.account);
      const wanted = keyId.toLowerCase();
      const { records, total } = await listOnce({ keyid: keyId, region, limit: PAGE_SIZE }, options);
      // CM's filter is trusted only as far as the records prove it: KeyID, Region and account.
      const matches = records.filter(
        (k) =>
          k.aws_param.KeyID.toLowerCase() === wanted &&
          k.region === region &&
          (account === undefined ||
            k.aws_param.AWSAccountId === undefined ||
            k.aws_param.AWSAccountId === account),
      );
      const match = single(matches, total > records.length, `AWS key ${keyId} in ${region}`);
      return match && toManagedKey(match);
    },

    async *listPendingDeletion(options = {}) {
      // The whole set is listed before the first key is yielded: a cancel made by the consumer
      // shrinks the filtered set, which would make skip-based paging jump over keys.
      const found = new Map<string, ManagedKey>();
      const unreadable = new Map<string, UnreadableKey>();
      let failed: unknown;
      let pages = 0;
      try {
        pages = await listPendingInto(found, unreadable, options);
      } catch (error) {
        // What was read is still pending deletion: hand it over, then report the rest as failed.
        failed = error;
      }
      const keys = [...found.values()].sort((a, b) => a.cckmId.localeCompare(b.cckmId));
      log.debug('Listed CCKM keys pending deletion', {
        pages,
        keys: keys.length,
        unreadable: unreadable.size,
      });
      yield* keys;
      yield* unreadable.values();
      if (failed !== undefined) throw failed;
    },

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

    async startSynchronization(request, options): Promise<SynchronizationStart> {
      const regions = regionList(request?.regions);
      // CCKM runs one job at a time: look first, so a sweep every hour never queues a second one.
      const label = `GET ${SYNC_JOBS_PATH}`;
      const running = await session.call(
        { method: 'GET', path: SYNC_JOBS_PATH, query: { status: 'in_progress', limit: 1 } },
        label,
        options,
      );
      const listed = listEnvelopeOf(okJson(running, label));
      if (!listed) throw malformed(label, 'a malformed list', running);
      if (listed.total > 0) return 'already-running';
      const startLabel = `POST ${SYNC_JOBS_PATH}`;
      const body = regions ? { regions } : { synchronize_all: true };
      const started = await session.call({ method: 'POST', path: SYNC_JOBS_PATH, body }, startLabel, options);
      // Another sweep (or a person) started one in between, or a retried start met its own job.
      if (started.status === 409) return 'already-running';
      okJson(started, startLabel);
      return 'started';
    },

    stats: session.stats,
    close: session.close,
  };
}

/** A listing's or job's Regions, validated (they reach a query or body); undefined means every Region. */
function regionList(regions: readonly string[] | undefined): string[] | undefined {
  if (regions === undefined) return undefined;
  const bad = regions.find((r) => !isRegion(r));
  if (bad !== undefined) throw new ValidationError(`not a Region name: ${String(bad).slice(0, 40)}`);
  if (regions.length === 0) throw new ValidationError('an empty Region list would match no key');
  return [...new Set(regions)];
}
