import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { ROOT } from '../local/build-bundles.ts';

/** A bare import of a third-party package by the project's own code. */
export interface ThirdPartyImport {
  readonly specifier: string;
  /** Named value imports (type-only imports are left out: they cost nothing at run time). */
  readonly names: readonly string[];
  /** The default import, if any. */
  readonly hasDefault: boolean;
}

const IMPORT = /import\s+(type\s+)?([^'";]*?)\s+from\s+['"]([^'"]+)['"]/g;

/**
 * The third-party value imports of the project files that went into a bundle, read from esbuild's
 * metafile, so the floor bundle follows the code as it changes instead of a hand-kept list.
 */
export async function thirdPartyImports(metafile: Metafile): Promise<ThirdPartyImport[]> {
  const byPackage = new Map<string, { names: Set<string>; hasDefault: boolean }>();
  const ownFiles = Object.keys(metafile.inputs).filter(
    (f) => !f.includes('node_modules') && f.endsWith('.ts'),
  );
  for (const file of ownFiles) {
    const source = await readFile(path.join(ROOT, file), 'utf8');
    for (const match of source.matchAll(IMPORT)) {
      const [, typeOnly, clause = '', specifier = ''] = match;
      if (typeOnly || specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      const entry = byPackage.get(specifier) ?? { names: new Set<string>(), hasDefault: false };
      const braces = clause.match(/\{([^}]*)\}/);
      const beforeBraces = clause
        .replace(/\{[^}]*\}/, '')
        .replace(/,/g, '')
        .trim();
      if (beforeBraces && !beforeBraces.startsWith('*')) entry.hasDefault = true;
      for (const part of braces?.[1]?.split(',') ?? []) {
        const name = part.trim();
        if (name && !name.startsWith('type ')) entry.names.add(name.split(/\s+as\s+/)[0] as string);
      }
      byPackage.set(specifier, entry);
    }
  }
  return [...byPackage.entries()]
    .map(([specifier, e]) => ({ specifier, names: [...e.names].sort(), hasDefault: e.hasDefault }))
    .filter((i) => i.hasDefault || i.names.length > 0)
    .sort((a, b) => a.specifier.localeCompare(b.specifier));
}

/** Writes a floor entry that imports exactly these bindings and re-exports them (so none is shaken out). */
export async function writeFloorEntry(file: string, imports: readonly ThirdPartyImport[]): Promise<void> {
  const lines: string[] = [];
  const exported: string[] = [];
  imports.forEach((imp, i) => {
    const alias = (name: string) => `${name}_${i}`;
    const parts: string[] = [];
    if (imp.hasDefault) {
      parts.push(`default_${i}`);
      exported.push(`default_${i}`);
    }
    if (imp.names.length > 0) {
      parts.push(`{ ${imp.names.map((n) => `${n} as ${alias(n)}`).join(', ')} }`);
      exported.push(...imp.names.map(alias));
    }
    lines.push(`import ${parts.join(', ')} from '${imp.specifier}';`);
  });
  lines.push(`export { ${exported.join(', ')} };`, '');
  await writeFile(file, lines.join('\n'));
}
