import { existsSync, readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { LogLevel, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS, ESM_REQUIRE_BANNER } from '../../infra/bundling.ts';
import { nodejsBundlingOptions } from '../../infra/cdk-bundling.ts';
import { missingEntries, synth } from './helpers.ts';

describe('bundling', () => {
  it('derives the NodejsFunction options from the shared esbuild options', () => {
    expect(nodejsBundlingOptions()).toEqual({
      minify: true,
      sourceMap: true,
      sourceMapMode: SourceMapMode.DEFAULT,
      sourcesContent: false,
      target: 'node24',
      format: OutputFormat.ESM,
      mainFields: ['module', 'main'],
      banner: ESM_REQUIRE_BANNER,
      bundleAwsSDK: true,
      externalModules: [],
      logLevel: LogLevel.WARNING,
      esbuildArgs: { '--legal-comments': 'none' },
    });
    expect(ESBUILD_OPTIONS.external).toEqual([]);
  });

  it('bundles both entries with esbuild into minified ESM with source maps and the AWS SDK inside', {
    timeout: 120_000,
  }, () => {
    // A missing entry fails here, naming it, rather than skipping the test.
    expect(missingEntries()).toEqual([]);
    const { app, stack } = synth({}, { bundle: true });
    const assembly = app.synth();
    for (const fn of [stack.cancelFunction, stack.remediationFunction]) {
      const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
      const props = (
        assembly.getStackByName(stack.stackName).template.Resources[logicalId] as {
          Properties: { Code: { S3Key: string } };
        }
      ).Properties;
      const dir = `${assembly.directory}/asset.${props.Code.S3Key.replace(/\.zip$/, '')}`;
      expect(existsSync(`${dir}/index.mjs`)).toBe(true);
      expect(existsSync(`${dir}/index.mjs.map`)).toBe(true);
      const code = readFileSync(`${dir}/index.mjs`, 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{\s*\w+ as handler/);
      // Bundled, not imported from the runtime: no bare import of an AWS SDK or other package remains.
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code).not.toMatch(/from\s*["'](?!node:)[a-z@][^"']*["']/);
      expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
    }
  });
});
