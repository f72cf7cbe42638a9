import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogLevel, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ESBUILD_OPTIONS } from './bundling.ts';

/**
 * The shared esbuild options in CDK's vocabulary. Kept apart from bundling.ts so that `npm start`, which
 * imports bundling.ts, does not load aws-cdk-lib.
 */

/** NodejsFunction bundling options derived from ESBUILD_OPTIONS, so deployed bundles match local ones. */
export function nodejsBundlingOptions(): BundlingOptions {
  return {
    minify: ESBUILD_OPTIONS.minify,
    sourceMap: ESBUILD_OPTIONS.sourcemap,
    // esbuild's `sourcemap: true` is a linked .map file, which is CDK's DEFAULT mode.
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: ESBUILD_OPTIONS.sourcesContent,
    target: ESBUILD_OPTIONS.target,
    format: ESBUILD_OPTIONS.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    banner: ESBUILD_OPTIONS.banner.js,
    // Bundle the AWS SDK rather than use the runtime's copy: the deployed version is the tested one.
    bundleAwsSDK: true,
    externalModules: [...ESBUILD_OPTIONS.external],
    logLevel: ESBUILD_OPTIONS.logLevel === 'warning' ? LogLevel.WARNING : LogLevel.ERROR,
    esbuildArgs: { '--legal-comments': ESBUILD_OPTIONS.legalComments },
  };
}
