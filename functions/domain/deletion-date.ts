/**
 * Deletion dates as CloudTrail and CCKM write them. CloudTrail's `deletionDate` is free-form text
 * (`"Apr 12, 2021 18:58:30 PM"`, `"Nov 2, 2021, 11:25:25 PM"`), absent for multi-Region primaries and
 * for denied calls, so nothing here throws: an unreadable date becomes `undefined` and the caller
 * derives one from the event time and the pending window.
 */

const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** `Mon D, YYYY[,] h:mm:ss [AM|PM]`, the shape CloudTrail uses for KMS dates. */
const CLOUDTRAIL_DATE =
  /^([A-Za-z]{3})[a-z]* +(\d{1,2}), *(\d{4}),? +(\d{1,2}):(\d{2}):(\d{2}) *([AaPp][Mm])?$/;
/** ISO 8601 with a time and an explicit zone, or an epoch number as CCKM may store it. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** The AWS default when `ScheduleKeyDeletion` is called without a window. */
export const DEFAULT_PENDING_WINDOW_DAYS = 30;

/** Parses a deletion date in any documented format into ISO 8601 (UTC), or returns undefined. */
export function parseDeletionDate(value: unknown): string | undefined {
  try {
    if (typeof value === 'number' && Number.isFinite(value)) {
      // Epoch seconds (KMS API) or milliseconds: anything before 1e11 cannot be milliseconds of a real date.
      return toIso(value < 1e11 ? value * 1000 : value);
    }
    if (typeof value !== 'string') return undefined;
    const text = value.trim();
    if (text === '' || text.length > 64) return undefined;
    const m = CLOUDTRAIL_DATE.exec(text);
    if (m) {
      const [, mon, dayText, year, hh, mm, ss, ampm] = m;
      const day = Number(dayText);
      const month = MONTHS[(mon ?? '').toLowerCase()];
      if (month === undefined) return undefined;
      let hour = Number(hh);
      // The documented "18:58:30 PM" is a 24-hour time with a stray suffix: only 1-12 honour AM/PM.
      if (ampm && hour >= 1 && hour <= 12) {
        const pm = ampm.toLowerCase() === 'pm';
        if (pm && hour < 12) hour += 12;
        if (!pm && hour === 12) hour = 0;
      }
      if (hour > 23 || Number(mm) > 59 || Number(ss) > 59 || day < 1 || day > 31) {
        return undefined;
      }
      const date = new Date(Date.UTC(Number(year), month, day, hour, Number(mm), Number(ss)));
      // Date.UTC rolls Feb 31 over into March; a rolled date is not what the text said.
      if (date.getUTCDate() !== day) return undefined;
      // A four-digit year, a checked day and time: always a valid date, written from the one Date.
      return date.toISOString();
    }
    if (ISO_DATE.test(text)) return toIso(Date.parse(text));
    return undefined;
  } catch {
    return undefined;
  }
}

/** Reads a pending window (7 to 30 days) from a number or numeric string, or returns undefined. */
export function parsePendingWindow(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 365 ? n : undefined;
}

/** Event time plus the pending window, in ISO 8601, or undefined when the event time is unreadable. */
export function deriveDeletionDate(
  eventTime: string | undefined,
  pendingWindowInDays: number,
): string | undefined {
  if (eventTime === undefined) return undefined;
  const start = Date.parse(eventTime);
  return Number.isFinite(start) ? toIso(start + pendingWindowInDays * 86_400_000) : undefined;
}

function toIso(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
