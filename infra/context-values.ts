/**
 * Readers shared by the two context parsers (./context.ts and ./hub-context.ts): how a context value
 * becomes text or a list, and how a problem is recorded. Each check pushes a sentence naming the key onto
 * `problems` and returns a fallback, so a parser reports every problem at once.
 */
import type { Checked } from '../functions/shared/settings.ts';

/** Context values arrive as strings from `-c`, but cdk.json may hold booleans, numbers or arrays. */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => String(v)).join(',');
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** Comma-separated (or a cdk.json array), trimmed, empty entries dropped, order kept. */
export function list(value: unknown): string[] {
  return (text(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Like `list`, with repeats dropped (first one kept). */
export function uniqueList(value: unknown): string[] {
  return [...new Set(list(value))];
}

/** The value of a shared settings rule, or `fallback` with its problem recorded. */
export function checkedValue<T>(checked: Checked<T>, fallback: T, problems: string[]): T {
  if (checked.ok) return checked.value;
  problems.push(checked.problem);
  return fallback;
}

/** `true` or `false` (any case); absent means false. */
export function parseBool(key: string, value: unknown, problems: string[]): boolean {
  const s = text(value)?.toLowerCase();
  if (s === undefined || s === 'false') return false;
  if (s === 'true') return true;
  problems.push(`${key} must be true or false`);
  return false;
}

/** Checks every entry of a list against a pattern, reporting the first bad one. */
export function checkList(
  key: string,
  entries: readonly string[],
  pattern: RegExp | ((entry: string) => boolean),
  what: string,
  problems: string[],
): void {
  const accepts = typeof pattern === 'function' ? pattern : (e: string) => pattern.test(e);
  const bad = entries.find((e) => !accepts(e));
  if (bad !== undefined) problems.push(`${key} has an entry that is not ${what}: "${bad.slice(0, 200)}"`);
}
