/**
 * Removes credentials from text that came back from CipherTrust Manager (or a proxy in front of it)
 * before any of it reaches a log line, a response body, an error or a notification. A credential is
 * looked for in every form an echo may take: raw, JSON-escaped (inside a JSON string), URL-encoded
 * (a form body or query) and base64 (a Basic header). Any part of 8 or more characters of one of
 * those forms is redacted, so an answer cut in the middle of a token cannot leak half of it.
 */

/** Fragments at least this long of a credential are redacted; shorter credentials only whole. */
export const MIN_FRAGMENT = 8;
export const REDACTED = '[redacted]';

/** `\uXXXX` (lowercase hex, as Go and Python write it) for one UTF-16 unit. */
function unicodeEscape(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The forms under which `value` may appear in an echoed request. */
function formsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const forms = new Set([
    value,
    json,
    // Other encoders' JSON: Go's encoding/json (CipherTrust Manager's own) escapes & < > (and U+2028/9),
    // some escape `/`, some (Python's default) every non-ASCII character.
    json.replace(/[&<>\u2028\u2029]/g, unicodeEscape),
    json.replace(/\//g, '\\/'),
    json.replace(/[\u0080-\uffff]/g, unicodeEscape),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, ''),
  ]);
  return [...forms].filter((f) => f.length > 0);
}

/** A redactor for a set of credentials: build once per secret, apply to every text. */
export type Redactor = (text: string) => string;

/** Builds a redactor for the given credential values (empty or absent values are ignored). */
export function createRedactor(values: readonly (string | undefined)[]): Redactor {
  const windows = new Set<string>();
  const short: string[] = [];
  for (const value of values) {
    if (!value) continue;
    for (const form of formsOf(value)) {
      if (form.length < MIN_FRAGMENT) {
        short.push(form);
        continue;
      }
      for (let i = 0; i + MIN_FRAGMENT <= form.length; i++) windows.add(form.slice(i, i + MIN_FRAGMENT));
    }
  }
  // Longest first, so a short credential that is part of a longer one does not split it.
  short.sort((a, b) => b.length - a.length);
  return (text: string) => {
    // An empty text comes out empty: no window fits, and splitting it finds no credential.
    let out = text;
    if (windows.size > 0 && out.length >= MIN_FRAGMENT) {
      // Mark every character covered by a window that belongs to a credential, then collapse each
      // marked run into one marker: linear in the text's length.
      const covered = new Uint8Array(out.length);
      let any = false;
      for (let i = 0; i + MIN_FRAGMENT <= out.length; i++) {
        if (windows.has(out.slice(i, i + MIN_FRAGMENT))) {
          covered.fill(1, i, i + MIN_FRAGMENT);
          any = true;
        }
      }
      if (any) {
        let result = '';
        for (let i = 0; i < out.length; i++) {
          if (!covered[i]) result += out[i];
          else if (!covered[i - 1]) result += REDACTED;
        }
        out = result;
      }
    }
    for (const form of short) out = out.split(form).join(REDACTED);
    return out;
  };
}

/** Redacts first, then clips to `max` characters: clipping first could cut a credential below the fragment length. */
export function redactAndClip(text: string, redact: Redactor, max: number): string {
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
