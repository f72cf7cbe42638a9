/** Defensive readers for event JSON: a field of the wrong type or size reads as absent, never throws. */

import { isJsonObject } from '../shared/json.ts';

export type Json = Readonly<Record<string, unknown>>;

/** The value as a plain object, or `undefined` for anything else (arrays included). */
export function obj(value: unknown): Json | undefined {
  return isJsonObject(value) ? value : undefined;
}

/** The value as a non-empty string of at most `max` characters, or `undefined`. */
export function str(value: unknown, max = 2048): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}
