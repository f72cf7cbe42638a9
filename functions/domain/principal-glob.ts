/**
 * ALLOWED_PRINCIPALS globs: `*` matches any run of characters (including none), everything else
 * literally and case-sensitively (IAM names are case-sensitive). Matched segment by segment, greedy
 * leftmost, in time linear in the ARN's length: a regular expression `^a.*b.*c$` backtracks
 * polynomially on a long ARN, synchronously, past any deadline.
 */

import { MAX_PRINCIPAL_STARS } from '../shared/settings.ts';

/** The most `*` one pattern may hold; more is a configuration error (the shared settings rule). */
export const MAX_GLOB_STARS = MAX_PRINCIPAL_STARS;
/** ARNs longer than this are never matched (IAM ARNs stay far below it; CloudTrail's are at most ~2 KB). */
export const MAX_MATCHED_ARN_LENGTH = 2048;

/** True when `text` matches `glob`. Linear in `text.length` times the number of segments (at most 17). */
export function globMatches(glob: string, text: string): boolean {
  if (text.length > MAX_MATCHED_ARN_LENGTH) return false;
  const parts = glob.split('*');
  if (parts.length === 1) return glob === text;
  const first = parts[0] ?? '';
  const last = parts.at(-1) ?? '';
  if (first.length + last.length > text.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  // Each middle segment at its leftmost place after the previous one: if any placement exists, the
  // leftmost one leaves the most room for the rest, so no backtracking is ever needed. An empty one
  // (from `**`) is found where the previous one ended, which never passes `end`.
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = text.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
