import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../local/build-bundles.ts';

/**
 * Keeps `npm run bench` from rotting: runs it with `--quick --json` (tiny sizes) and checks the
 * shape of what it prints. No wall-clock assertion: the figures of a quick run mean nothing.
 */

const run = promisify(execFile);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths whose value must be a finite number in every run. */
const NUMBERS = [
  'bundleBytes.cancel-deletion.minified',
  'bundleBytes.cancel-deletion.gzip',
  'bundleBytes.remediate-deletion.minified',
  'bundleBytes.remediate-deletion.gzip',
  'floorBundleBytes.cancel-deletion.minified',
  'floorBundleBytes.cancel-deletion.gzip',
  'floorBundleBytes.remediate-deletion.minified',
  'floorBundleBytes.remediate-deletion.gzip',
  'coldImportRatio.cancel-deletion',
  'coldImportRatio.remediate-deletion',
  'coldInvokeRatio',
  'warmOverheadRatio.p50',
  'warmOverheadRatio.p99',
  'warmOverheadRatioInfo.p50',
  'warmOverheadRatioInfo.p99',
  'remediationOverheadRatio.p50',
  'remediationOverheadRatio.p99',
  'remediation.guard.cckmRequestsPerEvent',
  'remediation.floor.cckmRequestsPerEvent',
  'tokenEconomy.secretReads',
  'tokenEconomy.tokenGrants',
  'tokenEconomy.socketsOpened',
  'tokenEconomy.cckmRequestsPerEvent',
  'peakRssMb.warm',
  'peakRssMb.sweep',
  'durationSec',
];

const SWEEP_ROW_NUMBERS = [
  'keys',
  'wallMs',
  'cckmRequests',
  'pages',
  'cancels',
  'enables',
  'expectedRequests',
  'notificationsPublished',
  'peakRssMb',
];

function at(value: Json, dotted: string): Json | undefined {
  let current: Json | undefined = value;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** Paths of every leaf that is not a finite number, a string or a boolean (NaN, null, Infinity). */
function badLeaves(value: Json, where = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [where];
  if (typeof value === 'string' || typeof value === 'boolean') return [];
  if (value === null) return [where];
  if (Array.isArray(value)) return value.flatMap((v, i) => badLeaves(v, `${where}[${i}]`));
  return Object.entries(value).flatMap(([k, v]) => badLeaves(v, `${where}.${k}`));
}

describe('npm run bench -- --quick --json', () => {
  let results: Json;
  const buildDir = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));

  afterAll(() => {
    rmSync(buildDir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    const { stdout } = await run(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      ['bench/run.ts', '--quick', '--json', '--build-dir', buildDir],
      {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
        timeout: 150_000,
      },
    );
    results = JSON.parse(stdout) as Json;
  }, 160_000);

  it('prints every measure of issue 6 as a finite number', () => {
    const missing = NUMBERS.filter((p) => {
      const v = at(results, p);
      return typeof v !== 'number' || !Number.isFinite(v);
    });
    expect(missing).toEqual([]);
  });

  it('prints no NaN, Infinity or null anywhere', () => {
    expect(badLeaves(results)).toEqual([]);
  });

  it('prints one sweep row per size, each with its requests, and the growth between sizes', () => {
    const sweep = at(results, 'sweep') as Json[];
    const sizes = at(results, 'settings.sweepSizes') as number[];
    expect(sweep.map((row) => at(row, 'keys'))).toEqual(sizes);
    for (const row of sweep) {
      for (const field of SWEEP_ROW_NUMBERS) expect(typeof at(row, field), field).toBe('number');
    }
    expect(at(results, 'sweepGrowth')).toHaveLength(sizes.length - 1);
  });

  it('reports ledgerCalls in a sweep row only as DynamoDB operation counts (absent until the ledger exists)', () => {
    for (const row of at(results, 'sweep') as Json[]) {
      const calls = at(row, 'ledgerCalls');
      if (calls === undefined) continue;
      expect(typeof calls).toBe('object');
      for (const n of Object.values(calls as Record<string, Json>)) expect(Number.isInteger(n)).toBe(true);
    }
  });

  it('makes the same CM calls and SNS messages per remediation event on both sides of the ratio', () => {
    expect(at(results, 'remediation.guard.cckmRequestsPerEvent')).toBe(
      at(results, 'remediation.floor.cckmRequestsPerEvent'),
    );
    expect(at(results, 'remediation.guard.publishesPerEvent')).toBe(1);
    expect(at(results, 'remediation.floor.publishesPerEvent')).toBe(1);
  });

  it('cancels every key it was given, so the figures are of real cancels', () => {
    const sweep = at(results, 'sweep') as Json[];
    for (const row of sweep) expect(at(row, 'cancels')).toBe(at(row, 'keys'));
    expect(at(results, 'tokenEconomy.outcomes.cancelled')).toBe(at(results, 'tokenEconomy.events'));
  });

  it('puts every target row next to a PASS, MISS or INFO status', () => {
    const targets = at(results, 'targets') as Json[];
    expect(targets.length).toBeGreaterThan(10);
    for (const row of targets) expect(['PASS', 'MISS', 'INFO']).toContain(at(row, 'status'));
  });
});
