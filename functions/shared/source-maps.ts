import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Readable stack traces without `--enable-source-maps`. That flag makes every cold start read and
 * decode the bundle's whole source map (BENCHMARKS.md: ~+30 ms of import and +22 MiB of RSS, on
 * every start, for a trace that is almost never printed), and Node 24 maps only modules loaded after
 * source maps were switched on, so `process.setSourceMapsEnabled(true)` at error time maps nothing.
 * Instead the map next to the bundle is read the first time an error's stack is about to be logged,
 * and that stack's frames in the bundle are rewritten to their original file, line and column.
 */

/** The bundle this module was bundled into (under tsx or vitest, the .ts file itself: no map, nothing mapped). */
const BUNDLE_URL = import.meta.url;

let loaded: { readonly file: string; readonly map: SourceMap | undefined } | undefined;

function mapOf(file: string): SourceMap | undefined {
  if (loaded?.file !== file) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
    } catch {
      // No map deployed, or not readable (`map` stays undefined): the stack stays as it is, which is still a stack.
    }
    loaded = { file, map };
  }
  return loaded.map;
}

const FRAME = /^(\s*at (?:async )?)(?:(.*?) \()?(\S+?):(\d+):(\d+)(\)?)$/;

/**
 * The stack with every frame inside `bundleUrl` (this bundle by default) replaced by its original
 * position from the bundle's source map; frames elsewhere, and every frame when there is no map, are
 * kept as they are.
 */
export function sourceMappedStack(stack: string, bundleUrl: string = BUNDLE_URL): string {
  if (!bundleUrl.startsWith('file:') || !stack.includes(bundleUrl)) return stack;
  const map = mapOf(fileURLToPath(bundleUrl));
  if (!map) return stack;
  return stack
    .split('\n')
    .map((line) => {
      const m = FRAME.exec(line);
      if (!m || m[3] !== bundleUrl) return line;
      const origin = map.findOrigin(Number(m[4]), Number(m[5]));
      if (!('fileName' in origin)) return line;
      const name = origin.name ?? m[2];
      const where = `${origin.fileName}:${origin.lineNumber}:${origin.columnNumber}`;
      return `${m[1]}${name ? `${name} (${where})` : where}`;
    })
    .join('\n');
}

const MAPPED = Symbol('source-mapped');

/**
 * Rewrites `error.stack` (and its causes') to original positions, once per error, and returns the
 * error: call it where an error is about to be logged (`logger.error('...', { error: sourceMapped(e) })`).
 */
export function sourceMapped<E>(error: E, bundleUrl: string = BUNDLE_URL): E {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const e = current as Error & { [MAPPED]?: true };
    if (!e[MAPPED] && typeof e.stack === 'string') {
      e.stack = sourceMappedStack(e.stack, bundleUrl);
      e[MAPPED] = true;
    }
    current = e.cause;
  }
  return error;
}
