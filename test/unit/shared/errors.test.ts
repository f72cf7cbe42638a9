import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS } from '../../../infra/bundling.ts';

describe('error names', () => {
  it('survive the minified bundle, so logs and failure reasons name the error', async () => {
    // Bundled with the deployed options: minification renames classes, and the names must not follow.
    const result = await build({
      ...ESBUILD_OPTIONS,
      mainFields: [...ESBUILD_OPTIONS.mainFields],
      external: [],
      sourcemap: false,
      write: false,
      stdin: {
        contents: `import * as e from './functions/shared/errors.ts';
export const names = [new e.ValidationError('m'), new e.NotFoundError('m'), new e.UpstreamError('m'),
  new e.AuthenticationError('m'), new e.TimeoutError('m'), new e.ConfigError('m')].map((x) => x.name);`,
        resolveDir: process.cwd(),
        loader: 'ts',
      },
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'guard-errors-'));
    const file = path.join(dir, 'errors.mjs');
    await writeFile(file, result.outputFiles[0]?.text ?? '');
    const mod = (await import(pathToFileURL(file).href)) as { names: string[] };
    await rm(dir, { recursive: true, force: true });
    expect(mod.names).toEqual([
      'ValidationError',
      'NotFoundError',
      'UpstreamError',
      'AuthenticationError',
      'TimeoutError',
      'ConfigError',
    ]);
  });
});
