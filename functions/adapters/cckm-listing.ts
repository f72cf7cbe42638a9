import { type AwsKeyRef, isRegion, keyArnRef, parseKeyIdRef } from '../domain/aws-key-ref.ts';
import { isPendingDeletion, type ManagedKey, PENDING_STATES } from '../domain/managed-key.ts';
import type { CallOptions, CckmApi, PageInfo, UnreadableKey } from '../domain/ports.ts';
import { UpstreamError, ValidationError } from '../shared/errors.ts';
import { isJsonObject } from '../shared/json.ts';
import { listEnvelopeOf, malformed, okJson } from './cckm-answer.ts';
import { type CckmRecord, parseCckmRecord, toManagedKey } from './cckm-record.ts';
import type { CmRequest } from './cm-http.ts';
import type { CmLogger, CmSession } from './cm-session.ts';

/**
 * The paged listings of CCKM's AWS keys: the pending set of a sweep (unreadable records kept, a page
 * cap per pass, optional Regions) and the lookup of one AWS key by KeyID.
 */

/** Page size of list calls; CM's default of 10 would mean many round trips. */
export const PAGE_SIZE = 100;
/** A listing pass longer than this is treated as a CM fault, not looped over forever. */
export const MAX_PAGES = 200;
/** Passes over the pending set when it changed while being listed. */
const MAX_PASSES = 3;
/** CCKM's collection of AWS keys; a key's own path and its actions hang off it. */
export const KEYS_PATH = '/api/v1/cckm/aws/keys';
/** The label of a list call in errors and logs. */
const LIST_LABEL = `GET ${KEYS_PATH}`;
// The listing's filter and the check of each listed record (isPendingDeletion) share one set of states.
const PENDING_KEY_STATES: readonly string[] = [...PENDING_STATES];

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
  const record = isJsonObject(item) ? item : {};
  const param = isJsonObject(record.aws_param) ? record.aws_param : {};
  const state = shownText(param.KeyState);
  if (state !== undefined && !PENDING_STATES.has(state)) return undefined;
  const arn = shownText(param.Arn);
  // The ARN names the account and Region when the record's own fields lack them, so scope can still
  // tell whose record it is (a guard must not fail a key another guard's scope owns).
  const fromArn = keyArnRef(arn);
  const identity = {
    cckmId: shownText(record.id),
    keyId: shownText(param.KeyID),
    arn,
    account: shownText(param.AWSAccountId) ?? fromArn?.account,
    region: shownText(record.region) ?? fromArn?.region,
    aliases: [],
  };
  return { unreadable: true, identity, reason: UNREADABLE_REASON };
}

/**
 * The one match for the AWS key `keyId` in `region`, undefined for none, UpstreamError when CCKM holds
 * several records or more than it sent (the key's name is put together only for that error).
 */
function single(
  matches: readonly CckmRecord[],
  incomplete: boolean,
  keyId: string,
  region: string,
): CckmRecord | undefined {
  if (!incomplete && matches.length <= 1) return matches[0];
  const ids = matches.map((k) => `${k.id} (kms ${k.kms ?? k.kms_id ?? 'unknown'})`).join(', ');
  throw new UpstreamError(
    `CCKM holds more than one record for AWS key ${keyId} in ${region}: ${ids || 'more than one page of matches'}; the account does not tell them apart`,
  );
}

/** A listing's or job's Regions, validated (they reach a query or body); undefined means every Region. */
export function regionList(regions: readonly string[] | undefined): string[] | undefined {
  if (regions === undefined) return undefined;
  const bad = regions.find((r) => !isRegion(r));
  if (bad !== undefined) throw new ValidationError(`not a Region name: ${String(bad).slice(0, 40)}`);
  if (regions.length === 0) throw new ValidationError('an empty Region list would match no key');
  return [...new Set(regions)];
}

export interface ListingSettings {
  /** Page cap of one listing pass. */
  readonly maxPages: number;
  readonly log: CmLogger;
}

/** The listings over a session, as the CckmApi port names them. */
export function createKeyListing(
  session: Pick<CmSession, 'call'>,
  { maxPages, log }: ListingSettings,
): Pick<CckmApi, 'findAwsKey' | 'listPendingDeletion'> {
  /**
   * One page. A record that fails the schema throws for a lookup (`unreadable` absent), or is handed
   * back as an UnreadableKey for a listing, so one bad record does not hide the others.
   */
  async function listOnce(
    query: CmRequest['query'],
    options: CallOptions | undefined,
    unreadable?: UnreadableKey[],
  ): Promise<{ records: CckmRecord[]; total: number; items: number }> {
    const label = LIST_LABEL;
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
          { keystate: PENDING_KEY_STATES, region: regions, skip, limit: PAGE_SIZE },
          options,
          bad,
        );
        bad.forEach((item, index) => {
          // Records with neither id nor ARN are told apart by their place in the listing.
          unreadable.set(item.identity.cckmId ?? item.identity.arn ?? `#${skip}.${index}`, item);
        });
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

  return {
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
      const match = single(matches, total > records.length, keyId, region);
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
  };
}
