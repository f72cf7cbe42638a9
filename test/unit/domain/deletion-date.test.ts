import { describe, expect, it } from 'vitest';
import {
  deriveDeletionDate,
  parseDeletionDate,
  parsePendingWindow,
} from '../../../functions/domain/deletion-date.ts';

describe('parseDeletionDate', () => {
  it.each([
    ['Apr 12, 2021 18:58:30 PM', '2021-04-12T18:58:30.000Z'],
    ['Jul 31, 2020 12:00:00 AM', '2020-07-31T00:00:00.000Z'],
    ['Nov 2, 2021, 11:25:25 PM', '2021-11-02T23:25:25.000Z'],
    ['Nov 2, 2021, 12:05:00 PM', '2021-11-02T12:05:00.000Z'],
    ['Jan 5, 2022 03:04:05 am', '2022-01-05T03:04:05.000Z'],
    ['Feb 29, 2024 23:59:59 PM', '2024-02-29T23:59:59.000Z'],
    ['Dec 31, 9999 11:59:59 PM', '9999-12-31T23:59:59.000Z'],
    ['Jan 1, 0050 12:00:00 AM', '1950-01-01T00:00:00.000Z'],
    ['2021-04-12T18:58:30Z', '2021-04-12T18:58:30.000Z'],
    ['2021-04-12T18:58:30.123+02:00', '2021-04-12T16:58:30.123Z'],
  ])('reads %j as %s', (text, iso) => {
    expect(parseDeletionDate(text)).toBe(iso);
  });

  it('reads epoch seconds and milliseconds', () => {
    expect(parseDeletionDate(1618253910)).toBe('2021-04-12T18:58:30.000Z');
    expect(parseDeletionDate(1618253910000)).toBe('2021-04-12T18:58:30.000Z');
  });

  it.each([
    undefined,
    null,
    '',
    'soon',
    'Feb 31, 2021 10:00:00 AM',
    'Foo 12, 2021 10:00:00 AM',
    'Apr 12, 2021 25:00:00',
    '2021-04-12',
    {},
    [],
    Number.NaN,
    'x'.repeat(10_000),
  ])('returns undefined for %j instead of throwing', (value) => {
    expect(parseDeletionDate(value)).toBeUndefined();
  });
});

describe('parsePendingWindow', () => {
  it('accepts numbers and numeric strings', () => {
    expect(parsePendingWindow(7)).toBe(7);
    expect(parsePendingWindow('20')).toBe(20);
  });

  it.each([undefined, null, '', 'seven', 7.5, 0, -1, {}])('ignores %j', (value) => {
    expect(parsePendingWindow(value)).toBeUndefined();
  });
});

describe('deriveDeletionDate', () => {
  it('adds the window to the event time', () => {
    expect(deriveDeletionDate('2021-11-02T23:25:25Z', 30)).toBe('2021-12-02T23:25:25.000Z');
  });

  it('returns undefined for an unreadable or absent event time', () => {
    expect(deriveDeletionDate('yesterday', 30)).toBeUndefined();
    expect(deriveDeletionDate(undefined, 30)).toBeUndefined();
  });
});
