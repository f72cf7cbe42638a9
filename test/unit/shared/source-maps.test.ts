import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceMappedStack } from '../../../functions/shared/source-maps.ts';
import { ESBUILD_OPTIONS } from '../../../infra/bundling.ts';
import { ROOT } from '../../../local/build-bundles.ts';

/**
 * A bundle built like the functions, whose errors come from known lines of `fixture.ts`. Each check
 * runs in a fresh `node` without `--enable-source-maps` (vitest maps stacks in its own process).
 */
const FIXTURE = `import { sourceMapped } from '${path.join(ROOT, 'functions/shared/source-maps.ts')}';
function raw(): Error {
  return new Error('boom');
}
export function fail(): string {
  return sourceMapped(raw()).stack ?? '';
}
export function unmapped(): string {
  return raw().stack ?? '';
}
`;

/** The stack a fresh Node process prints for `fn` of the bundle at `url`. */
function stackIn(url: string, fn: 'fail' | 'unmapped'): string {
  const script = `const m = await import(${JSON.stringify(url)}); process.stdout.write(m.${fn}());`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
}

describe('sourceMapped', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'source-maps-'));
  let withMap: string;
  let withoutMap: string;

  beforeAll(async () => {
    const bundle = async (name: string) => {
      await build({
        ...ESBUILD_OPTIONS,
        mainFields: [...ESBUILD_OPTIONS.mainFields],
        external: [],
        stdin: { contents: FIXTURE, resolveDir: dir, sourcefile: 'fixture.ts', loader: 'ts' },
        outfile: path.join(dir, `${name}.mjs`),
        write: true,
      });
      return pathToFileURL(path.join(dir, `${name}.mjs`)).href;
    };
    withMap = await bundle('with-map');
    withoutMap = await bundle('without-map');
    unlinkSync(path.join(dir, 'without-map.mjs.map'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites the frames of the bundle to the original file and line', () => {
    const stack = stackIn(withMap, 'fail');
    expect(stack).toMatch(/fixture\.ts:3:\d+/);
    expect(stack).not.toMatch(/with-map\.mjs:\d+:\d+/);
  });

  it('leaves stacks it is not asked to map as Node prints them (minified positions)', () => {
    expect(stackIn(withMap, 'unmapped')).toMatch(/with-map\.mjs:\d+:\d+/);
  });

  it('keeps the stack as it was when the bundle has no map next to it', () => {
    const stack = stackIn(withoutMap, 'fail');
    expect(stack).toMatch(/without-map\.mjs:\d+:\d+/);
    expect(stack).not.toMatch(/fixture\.ts/);
  });

  it('keeps frames of other files as they are', () => {
    const stack = 'Error: boom\n    at other (file:///elsewhere/other.mjs:10:5)\n    at node:internal/x:1:1';
    expect(sourceMappedStack(stack, withMap)).toBe(stack);
  });
});
