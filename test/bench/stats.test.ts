import { describe, expect, it } from 'vitest';
import { median, quantile, round, table } from '../../bench/stats.ts';

describe('bench statistics', () => {
  it('takes quantiles by nearest rank, whatever the order of the samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(samples, 0.5)).toBe(5);
    expect(quantile(samples, 0.99)).toBe(10);
    expect(quantile(samples, 0)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('answers NaN for no samples rather than a made-up figure', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('rounds to the given decimals', () => {
    expect(round(1.23456)).toBe(1.235);
    expect(round(1.23456, 1)).toBe(1.2);
  });

  it('aligns table columns to the widest cell', () => {
    const text = table('T', [
      { name: 'a', value: 1 },
      { name: 'longer', value: 22 },
    ]);
    expect(text.split('\n')).toEqual([
      'T',
      '  name    value',
      '  ------  -----',
      '  a       1    ',
      '  longer  22   ',
      '',
    ]);
  });
});
