/**
 * The one bundling definition of the function bundles, used by the CDK stack (NodejsFunction) and
 * by `npm start` / the integration tests / the benchmarks (esbuild directly), so what runs locally
 * is built exactly as what is deployed.
 */

/** Function name (as deployed, without stack prefix) -> entry file, relative to the project root. */
export const FUNCTION_ENTRIES = {
  'cancel-deletion': 'functions/cancel-deletion.ts',
  'remediate-deletion': 'functions/remediate-deletion.ts',
} as const;

export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/**
 * Timeouts of the deployed functions, in ms; `npm start` and the bundle tests host them with the same.
 * The API function stops before API Gateway gives up on an integration (29 s), so its answer arrives;
 * a sweep decides every pending key in turn, each with its own CipherTrust Manager budget.
 */
export const FUNCTION_TIMEOUT_MS: Readonly<Record<FunctionName, number>> = {
  'cancel-deletion': 28_000,
  'remediate-deletion': 300_000,
};

/** ESM bundles need `require` for the few CommonJS dependencies that call it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __guardCreateRequire } from 'node:module';const require = __guardCreateRequire(import.meta.url);";

/** The esbuild options, in esbuild's own vocabulary; CDK's are derived from these below. */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  // The map carries positions only: `functions/shared/source-maps.ts` needs no source text, and the
  // deployed package stays 3.5 MB smaller per function (5.3 MB map with the sources, 1.7 MB without).
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  // The AWS SDK is bundled (not taken from the runtime) so the deployed version is the tested one.
  external: [] as string[],
  outExtension: { '.js': '.mjs' },
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/**
 * Environment every function gets from the bundling: nothing. `NODE_OPTIONS=--enable-source-maps`
 * made every cold start read and decode the whole source map (+32 ms of import, +22 MiB of RSS,
 * BENCHMARKS.md "Source maps"); stacks are mapped when an error is logged instead
 * (`functions/shared/source-maps.ts`), from the linked map deployed next to the bundle.
 */
export const BUNDLE_RUNTIME_ENV: Readonly<Record<string, string>> = {};

/**
 * Memory of the deployed functions, in MB (the stack's `memorySize`). The bench runs its function
 * children with the V8 heap Lambda's Node runtime derives from it (`bench/lambda-heap.ts`).
 */
export const FUNCTION_MEMORY_MB: Readonly<Record<FunctionName, number>> = {
  'cancel-deletion': 512,
  'remediate-deletion': 512,
};
