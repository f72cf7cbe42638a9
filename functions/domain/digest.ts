import type { Mode } from '../shared/settings.ts';
import type { SilentSpoke } from './ledger.ts';
import { MAX_SUBJECT_LENGTH } from './outcome-notification.ts';
import type { Outcome, OutcomeRecord, OutcomeSummary } from './remediation-outcome.ts';
import { summarise } from './remediation-outcome.ts';

/**
 * The one notification a sweep sends (contract section 4): counts per outcome, then at most 50 items,
 * the ones a person must act on first, and how many more are in the log. Whatever the sweep's size,
 * the message stays under SNS's 256 KB limit: the item count is fixed, each text field is bounded, and
 * the UTF-8 size is measured, with items moved to "more" should it ever be exceeded.
 */

/** Items shown in a digest; the rest are counted. */
export const MAX_DIGEST_ITEMS = 50;
/** SNS's message limit, in UTF-8 bytes. */
export const SNS_MESSAGE_LIMIT_BYTES = 262_144;
/** Room kept under the limit for SNS's own envelope on some protocols. */
const SIZE_TARGET_BYTES = SNS_MESSAGE_LIMIT_BYTES - 16_384;

/** What a sweep has to say. */
export interface DigestInput {
  readonly eventId: string;
  readonly eventTime?: string;
  readonly mode: Mode;
  /** Counts of every outcome of the sweep, new or not. */
  readonly summary: OutcomeSummary;
  /** Outcomes a person has not heard about yet (the ledger removed those already notified). */
  readonly news: readonly OutcomeRecord[];
  /** Keys still pending less than 24 h before deletion whose last-chance line is due. */
  readonly lastChance: readonly OutcomeRecord[];
  /** Expected spokes silent for more than 2 hours. */
  readonly silent: readonly SilentSpoke[];
}

/** The digest as the notifier publishes it. */
export interface DigestNotification {
  readonly kind: 'digest';
  readonly subject: string;
  /** JSON text. */
  readonly message: string;
  /** The most pressing thing it reports, for a subscription filter: an outcome, `last-chance` or `silent-spokes`. */
  readonly headline: Outcome | 'last-chance' | 'silent-spokes';
  /** UTF-8 length of `message`. */
  readonly bytes: number;
  readonly shown: number;
  readonly more: number;
}

type KeyItem = {
  readonly type: 'key';
  readonly outcome: Outcome;
  readonly lastChance: boolean;
  readonly reason: string;
  readonly deletionDate: string | null;
  readonly key: {
    readonly cckmId: string | null;
    readonly arn: string | null;
    readonly aliases: readonly string[];
    readonly account: string | null;
    readonly region: string | null;
  };
};
type SpokeItem = { readonly type: 'silent-spoke' } & SilentSpoke;
type Item = KeyItem | SpokeItem;

const RANK_FAILED = 0;
const RANK_CANCELLED = 1;
const RANK_LAST_CHANCE = 2;
const RANK_SILENT = 3;
const RANK_OTHER = 4;

/** Builds the sweep's digest, or undefined when there is nothing new to say. */
export function buildDigest(input: DigestInput): DigestNotification | undefined {
  const ranked = rankItems(input);
  if (ranked.length === 0) return undefined;
  const newCounts = summarise(input.news);
  const subject = digestSubject(input.mode, newCounts, input.lastChance.length, input.silent.length);
  let shown = Math.min(MAX_DIGEST_ITEMS, ranked.length);
  let fieldLimit = 300;
  for (;;) {
    const message = render(input, newCounts, ranked.slice(0, shown), ranked.length - shown, fieldLimit);
    const bytes = Buffer.byteLength(message, 'utf8');
    if (bytes <= SIZE_TARGET_BYTES || (shown === 0 && fieldLimit <= 16)) {
      return {
        kind: 'digest',
        subject,
        message,
        headline: headline(newCounts, input),
        bytes,
        shown,
        more: ranked.length - shown,
      };
    }
    // Unreachable with bounded fields, but a guarantee must not rest on the caller's field sizes.
    if (fieldLimit > 16) fieldLimit = Math.floor(fieldLimit / 4);
    else shown = Math.floor(shown / 2);
  }
}

/** One item to show, with its place in the order; `show` clips its free text to a field limit. */
interface Ranked {
  readonly rank: number;
  readonly order: number;
  readonly show: (limit: number) => Item;
}

function rankItems(input: DigestInput): Ranked[] {
  // A key that is news and due its last-chance line too is one item, with the news record.
  const byKey = new Map<string, { record: OutcomeRecord; lastChance: boolean }>();
  [...input.news, ...input.lastChance].forEach((record, i) => {
    const id = record.key.arn ?? record.key.cckmId ?? `#${i}`;
    const news = i < input.news.length;
    byKey.set(id, { record: news ? record : (byKey.get(id)?.record ?? record), lastChance: !news });
  });
  const items: Ranked[] = [];
  for (const { record, lastChance } of byKey.values()) {
    const rank =
      record.outcome === 'failed'
        ? RANK_FAILED
        : record.outcome.startsWith('cancelled')
          ? RANK_CANCELLED
          : lastChance
            ? RANK_LAST_CHANCE
            : RANK_OTHER;
    const order = Date.parse(record.deletionDate ?? '') || Number.MAX_SAFE_INTEGER;
    items.push({ rank, order, show: (limit) => keyItem(record, lastChance, limit) });
  }
  for (const spoke of input.silent) {
    items.push({
      rank: RANK_SILENT,
      order: Date.parse(spoke.lastSeen),
      show: () => ({
        type: 'silent-spoke',
        ...spoke,
        account: clip(spoke.account, 32),
        region: clip(spoke.region, 32),
      }),
    });
  }
  // Within a rank the soonest deletion (or the longest silence) first; sort is stable for ties.
  return items.sort((a, b) => a.rank - b.rank || a.order - b.order);
}

function keyItem(record: OutcomeRecord, lastChance: boolean, limit: number): KeyItem {
  const { key } = record;
  return {
    type: 'key',
    outcome: record.outcome,
    lastChance,
    reason: clip(record.reason, limit),
    deletionDate: clipOrNull(record.deletionDate, 64),
    key: {
      cckmId: clipOrNull(key.cckmId, 64),
      arn: clipOrNull(key.arn, Math.max(limit, 64)),
      aliases: key.aliases.slice(0, 3).map((a) => clip(a, Math.min(limit, 256))),
      account: clipOrNull(key.account, 32),
      region: clipOrNull(key.region, 32),
    },
  };
}

function render(
  input: DigestInput,
  newCounts: OutcomeSummary,
  shown: readonly Ranked[],
  more: number,
  limit: number,
): string {
  const eventId = clip(input.eventId, 128);
  return JSON.stringify(
    {
      digest: 'sweep',
      eventId,
      eventTime: clipOrNull(input.eventTime, 64),
      mode: input.mode,
      counts: input.summary,
      newCounts,
      lastChance: input.lastChance.length,
      silentSpokes: input.silent.length,
      items: shown.map((item) => item.show(limit)),
      more,
      // JSON.stringify leaves out an undefined note.
      moreNote: more > 0 ? `${more} more in the log: the audit lines of event ${eventId}` : undefined,
    },
    null,
    2,
  );
}

function clipOrNull(text: string | undefined, max: number): string | null {
  return text === undefined ? null : clip(text, max);
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Code points, not UTF-16 units, so a cut never leaves half a surrogate pair; at most two units per
  // code point, so only the head is ever split, however long the text.
  const points = [...text.slice(0, 2 * max)];
  if (points.length <= max && text.length <= 2 * max) return text;
  return `${points.slice(0, Math.max(0, max - 3)).join('')}...`;
}

/** Outcomes that head a digest before last-chance and silent spokes, most pressing first. */
const URGENT_OUTCOMES: readonly Outcome[] = ['failed', 'cancelled', 'cancelled-and-enabled'];

/** After failed, cancelled, last-chance and silent spokes, the order other outcomes are named in. */
const OTHER_OUTCOMES: readonly Outcome[] = [
  'detected',
  'not-managed',
  'allowed',
  'exempt',
  'denied-attempt',
  'not-pending',
];

/** `CCKM Deletion Guard sweep: 1 failed, 3 cancelled, 2 last-chance, 2 silent spokes`, at most 99 characters. */
export function digestSubject(
  mode: Mode,
  newCounts: OutcomeSummary,
  lastChance: number,
  silent: number,
): string {
  const prefix = `CCKM Deletion Guard sweep${mode === 'detect' ? ' (detect mode)' : ''}: `;
  const cancelled = (newCounts.cancelled ?? 0) + (newCounts['cancelled-and-enabled'] ?? 0);
  const counted: [number, string][] = [
    [newCounts.failed ?? 0, 'failed'],
    [cancelled, 'cancelled'],
    [lastChance, 'last-chance'],
    [silent, silent === 1 ? 'silent spoke' : 'silent spokes'],
    ...OTHER_OUTCOMES.map((outcome): [number, string] => [newCounts[outcome] ?? 0, outcome]),
  ];
  const parts = counted.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  let text = prefix + parts.join(', ');
  while (text.length > MAX_SUBJECT_LENGTH && parts.length > 1) {
    parts.pop();
    text = `${prefix}${parts.join(', ')}, ...`;
  }
  return text.slice(0, MAX_SUBJECT_LENGTH);
}

function headline(newCounts: OutcomeSummary, input: DigestInput): DigestNotification['headline'] {
  const first = (outcomes: readonly Outcome[]) => outcomes.find((o) => (newCounts[o] ?? 0) > 0);
  const pending =
    input.lastChance.length > 0 ? 'last-chance' : input.silent.length > 0 ? 'silent-spokes' : undefined;
  return first(URGENT_OUTCOMES) ?? pending ?? first(OTHER_OUTCOMES) ?? 'not-pending';
}
