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
  /** `import * as x from`: the whole module is used. */
  readonly hasNamespace: boolean;
  /** `import 'pkg'`: imported for its side effects only. */
  readonly sideEffect: boolean;
}

const IMPORT = /import\s+(type\s+)?([^'";]*?)\s+from\s+['"]([^'"]+)['"]/g;
const SIDE_EFFECT_IMPORT = /(?:^|;|\n)\s*import\s+['"]([^'"]+)['"]/g;

const isThirdParty = (specifier: string) => !specifier.startsWith('.') && !specifier.startsWith('node:');

interface Entry {
  names: Set<string>;
  hasDefault: boolean;
  hasNamespace: boolean;
  sideEffect: boolean;
}

/** Adds the value bindings of one import clause (`a, { b, type C, d as e }` or `* as ns`) to an entry. */
function addClause(entry: Entry, clause: string): void {
  const braces = clause.match(/\{([^}]*)\}/);
  const outside = clause.replace(/\{[^}]*\}/, '').trim();
  for (const part of outside.split(',')) {
    const binding = part.trim();
    if (!binding) continue;
    if (binding.startsWith('*')) entry.hasNamespace = true;
    else entry.hasDefault = true;
  }
  for (const part of braces?.[1]?.split(',') ?? []) {
    const name = part.trim();
    if (name && !name.startsWith('type ')) entry.names.add(name.split(/\s+as\s+/)[0] as string);
  }
}

/** The third-party value imports of a set of source texts. */
export function thirdPartyImportsOf(sources: readonly string[]): ThirdPartyImport[] {
  const byPackage = new Map<string, Entry>();
  const entryOf = (specifier: string): Entry => {
    const entry = byPackage.get(specifier) ?? {
      names: new Set<string>(),
      hasDefault: false,
      hasNamespace: false,
      sideEffect: false,
    };
    byPackage.set(specifier, entry);
    return entry;
  };
  for (const source of sources) {
    for (const [, typeOnly, clause = '', specifier = ''] of source.matchAll(IMPORT)) {
      if (typeOnly || !isThirdParty(specifier)) continue;
      addClause(entryOf(specifier), clause);
    }
    for (const [, specifier = ''] of source.matchAll(SIDE_EFFECT_IMPORT)) {
      if (isThirdParty(specifier)) entryOf(specifier).sideEffect = true;
    }
  }
  return [...byPackage.entries()]
    .map(([specifier, e]) => ({
      specifier,
      names: [...e.names].sort(),
      hasDefault: e.hasDefault,
      hasNamespace: e.hasNamespace,
      sideEffect: e.sideEffect,
    }))
    .filter((i) => i.hasDefault || i.hasNamespace || i.sideEffect || i.names.length > 0)
    .sort((a, b) => a.specifier.localeCompare(b.specifier));
}

/**
 * The third-party value imports of the project files that went into a bundle, read from esbuild's
 * metafile, so the floor bundle follows the code as it changes instead of a hand-kept list.
 */
export async function thirdPartyImports(metafile: Metafile): Promise<ThirdPartyImport[]> {
  const ownFiles = Object.keys(metafile.inputs).filter(
    (f) => !f.includes('node_modules') && f.endsWith('.ts'),
  );
  return thirdPartyImportsOf(await Promise.all(ownFiles.map((f) => readFile(path.join(ROOT, f), 'utf8'))));
}

/** The source of a floor entry that imports exactly these bindings and re-exports them (so none is shaken out). */
export function floorEntrySource(imports: readonly ThirdPartyImport[]): string {
  const lines: string[] = [];
  const exported: string[] = [];
  imports.forEach((imp, i) => {
    const from = `from '${imp.specifier}';`;
    if (imp.hasDefault) {
      lines.push(`import default_${i} ${from}`);
      exported.push(`default_${i}`);
    }
    if (imp.hasNamespace) {
      lines.push(`import * as namespace_${i} ${from}`);
      exported.push(`namespace_${i}`);
    }
    if (imp.names.length > 0) {
      lines.push(`import { ${imp.names.map((n) => `${n} as ${n}_${i}`).join(', ')} } ${from}`);
      exported.push(...imp.names.map((n) => `${n}_${i}`));
    }
    if (imp.sideEffect && !imp.hasDefault && !imp.hasNamespace && imp.names.length === 0) {
      lines.push(`import '${imp.specifier}';`);
    }
  });
  lines.push(`export { ${exported.join(', ')} };`, '');
  return lines.join('\n');
}

/** Writes a floor entry that imports exactly these bindings and re-exports them. */
export async function writeFloorEntry(file: string, imports: readonly ThirdPartyImport[]): Promise<void> {
  await writeFile(file, floorEntrySource(imports));
}
