import { describe, expect, it } from 'vitest';
import { floorEntrySource, thirdPartyImportsOf } from '../../bench/floor.ts';

describe('thirdPartyImportsOf', () => {
  it('keeps value imports of packages and leaves out type-only, relative and node: imports', () => {
    const imports = thirdPartyImportsOf([
      [
        "import type { Context } from 'aws-lambda';",
        "import { readFile } from 'node:fs/promises';",
        "import { cancelKey } from './domain/cancel-key.ts';",
        "import { type Dispatcher, Agent } from 'undici';",
        "import middy from '@middy/core';",
      ].join('\n'),
    ]);
    expect(imports).toEqual([
      { specifier: '@middy/core', names: [], hasDefault: true, hasNamespace: false, sideEffect: false },
      { specifier: 'undici', names: ['Agent'], hasDefault: false, hasNamespace: false, sideEffect: false },
    ]);
  });

  it('merges the bindings of one package imported by several files, multi-line clauses included', () => {
    const imports = thirdPartyImportsOf([
      "import {\n  GetSecretValueCommand,\n  type SecretsManagerClient,\n} from '@aws-sdk/client-secrets-manager';",
      "import { SecretsManagerClient as Client } from '@aws-sdk/client-secrets-manager';",
    ]);
    expect(imports).toEqual([
      {
        specifier: '@aws-sdk/client-secrets-manager',
        names: ['GetSecretValueCommand', 'SecretsManagerClient'],
        hasDefault: false,
        hasNamespace: false,
        sideEffect: false,
      },
    ]);
  });

  it('keeps namespace and side-effect imports, which a named-only floor would drop', () => {
    const imports = thirdPartyImportsOf(["import * as z from 'zod';\nimport 'source-map-support/register';"]);
    expect(imports.map((i) => [i.specifier, i.hasNamespace, i.sideEffect])).toEqual([
      ['source-map-support/register', false, true],
      ['zod', true, false],
    ]);
  });
});

describe('floorEntrySource', () => {
  it('imports every binding under a unique alias and re-exports them all, so none is tree-shaken', () => {
    const source = floorEntrySource([
      { specifier: '@middy/core', names: [], hasDefault: true, hasNamespace: false, sideEffect: false },
      { specifier: 'undici', names: ['Agent'], hasDefault: false, hasNamespace: false, sideEffect: false },
      { specifier: 'zod', names: [], hasDefault: false, hasNamespace: true, sideEffect: false },
      { specifier: 'polyfill', names: [], hasDefault: false, hasNamespace: false, sideEffect: true },
    ]);
    expect(source.split('\n')).toEqual([
      "import default_0 from '@middy/core';",
      "import { Agent as Agent_1 } from 'undici';",
      "import * as namespace_2 from 'zod';",
      "import 'polyfill';",
      'export { default_0, Agent_1, namespace_2 };',
      '',
    ]);
  });
});
