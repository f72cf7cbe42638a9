import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUILD_DIR, type BuiltBundle, buildBundle } from '../../local/build-bundles.ts';
import { runChild } from '../child.ts';
import { thirdPartyImports, writeFloorEntry } from '../floor.ts';
import { median, round } from '../stats.ts';

/** Sizes of one function bundle and its floor. */
export interface BundleFigures {
  readonly bundleBytes: number;
  readonly bundleGzipBytes: number;
  readonly floorBundleBytes: number;
  readonly floorBundleGzipBytes: number;
  /** bundleBytes - floorBundleBytes: what the project's own code and wiring add. */
  readonly ownBytes: number;
}

/**
 * Where the bench builds: its own folder under `.build/`, so a bench run never rewrites a bundle that
 * `npm start` or an integration test is importing at the same moment.
 */
export const BENCH_BUILD_DIR = path.join(BUILD_DIR, 'bench');

/**
 * Builds the floor bundle of a function: the same third-party imports, the same options, nothing else.
 * Its entry is written inside the project (so the packages resolve from node_modules), in a folder of
 * this process that is removed afterwards, so concurrent runs never read each other's half-written file.
 */
export async function buildFloor(
  bundle: BuiltBundle,
  outDir: string = BENCH_BUILD_DIR,
): Promise<BuiltBundle> {
  const dir = path.join(BUILD_DIR, 'bench-floor-src', `${process.pid}-${bundle.name}`);
  await mkdir(dir, { recursive: true });
  try {
    const entry = path.join(dir, `${bundle.name}.ts`);
    await writeFloorEntry(entry, await thirdPartyImports(bundle.metafile));
    return await buildBundle(`floor-${bundle.name}`, entry, outDir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Minified and gzip sizes of a bundle and its floor. */
export async function bundleFigures(bundle: BuiltBundle, floor: BuiltBundle): Promise<BundleFigures> {
  const gz = async (file: string) => gzipSync(await readFile(file), { level: 9 }).length;
  return {
    bundleBytes: bundle.bytes,
    bundleGzipBytes: await gz(bundle.file),
    floorBundleBytes: floor.bytes,
    floorBundleGzipBytes: await gz(floor.file),
    ownBytes: bundle.bytes - floor.bytes,
  };
}

/** Milliseconds to import a module in a fresh Node process, measured inside it (process start excluded). */
export async function importTimeMs(
  harness: string,
  file: string,
  env: Readonly<Record<string, string>>,
): Promise<number> {
  const { reply } = await runChild(harness, { mode: 'import', file }, env, 'import', 60_000);
  return reply.ms;
}

/** Cold-import figures of one function. */
export interface ColdImportFigures {
  readonly bundleMs: number;
  readonly floorMs: number;
  readonly ratio: number;
  /** Fastest bundle run ÷ fastest floor run: the least disturbed pair on a shared machine. */
  readonly minRatio: number;
  readonly runs: number;
}

/** Median cold-import times of a bundle and its floor over alternating fresh processes, and their ratio. */
export async function coldImportRatio(
  harness: string,
  bundle: BuiltBundle,
  floor: BuiltBundle,
  runs: number,
  env: Readonly<Record<string, string>>,
): Promise<ColdImportFigures> {
  const own: number[] = [];
  const base: number[] = [];
  // Alternating runs, and alternating which goes first, spread machine noise evenly over both.
  for (let i = 0; i < runs; i++) {
    const pair = [
      async () => base.push(await importTimeMs(harness, floor.file, env)),
      async () => own.push(await importTimeMs(harness, bundle.file, env)),
    ];
    if (i % 2 === 1) pair.reverse();
    for (const step of pair) await step();
  }
  const bundleMs = median(own);
  const floorMs = median(base);
  return {
    bundleMs: round(bundleMs, 2),
    floorMs: round(floorMs, 2),
    ratio: round(bundleMs / floorMs),
    minRatio: round(Math.min(...own) / Math.min(...base)),
    runs,
  };
}
