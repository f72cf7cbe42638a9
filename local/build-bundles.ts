import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { ESBUILD_OPTIONS, FUNCTION_ENTRIES, type FunctionName } from '../infra/bundling.ts';

/** Project root (this file lives in `local/`). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where local bundles go; gitignored. */
export const BUILD_DIR = path.join(ROOT, '.build');

/** One built bundle. */
export interface BuiltBundle {
  readonly name: string;
  /** Absolute path of the `.mjs` bundle. */
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * Bundles one entry with exactly the options the CDK stack deploys with (infra/bundling.ts).
 * `entry` is relative to the project root or absolute; the bundle is written to `outDir/<name>/index.mjs`.
 */
export async function buildBundle(
  name: string,
  entry: string,
  outDir: string = BUILD_DIR,
): Promise<BuiltBundle> {
  const dir = path.join(outDir, name);
  await mkdir(dir, { recursive: true });
  const result = await build({
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    external: [...ESBUILD_OPTIONS.external],
    absWorkingDir: ROOT,
    entryPoints: { index: entry },
    outdir: dir,
    metafile: true,
    write: true,
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'));
  if (!output) throw new Error(`esbuild produced no .mjs output for ${name}`);
  return { name, file: path.join(ROOT, output[0]), bytes: output[1].bytes, metafile: result.metafile };
}

/** Builds every function bundle named in infra/bundling.ts; returns them by function name. */
export async function buildFunctionBundles(
  outDir: string = BUILD_DIR,
): Promise<Record<FunctionName, BuiltBundle>> {
  const names = Object.keys(FUNCTION_ENTRIES) as FunctionName[];
  const built = await Promise.all(names.map((name) => buildBundle(name, FUNCTION_ENTRIES[name], outDir)));
  return Object.fromEntries(built.map((b) => [b.name, b])) as Record<FunctionName, BuiltBundle>;
}
