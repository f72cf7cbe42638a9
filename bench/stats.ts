/** Small statistics for benchmark samples. */

/** The q-quantile (0..1) of the samples, by nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median of the samples. */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** Rounds for display and JSON: 3 significant decimals for ratios, whole units otherwise. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Renders rows of objects as an aligned plain-text table. */
export function table(title: string, rows: readonly Record<string, string | number | boolean>[]): string {
  if (rows.length === 0) return `${title}\n  (no rows)\n`;
  const columns = Object.keys(rows[0] as object);
  const cells = rows.map((r) => columns.map((c) => String(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]) =>
    `  ${values.map((v, i) => v.padEnd(widths[i] as number)).join('  ')}`;
  return [title, line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), ''].join('\n');
}
