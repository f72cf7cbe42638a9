import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingEntries, PROJECT_ROOT } from './helpers.ts';

const out = mkdtempSync(join(tmpdir(), 'guard-synth-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** `npm run synth` as a user runs it, with no AWS credentials, profile or instance metadata. */
function npmSynth(...args: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)$/.test(k),
    ),
  );
  return spawnSync('npm', ['run', '--silent', 'synth', '--', '--output', out, ...args], {
    cwd: PROJECT_ROOT,
    // CDK's built-in CloudFormation validation is covered in nag.test.ts; skipping it here saves ~10 s.
    env: {
      ...env,
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_VALIDATION: 'false',
    },
    encoding: 'utf8',
    timeout: 110_000,
  });
}

describe('npm run synth (CDK CLI, offline)', () => {
  it('fails with a message naming the missing context key', { timeout: 60_000 }, () => {
    const r = npmSynth('-c', 'cckmSecretName=cckm/deletion-guard');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cckmUrl is required: -c cckmUrl=https://cm.example.com');
  });

  it('synthesizes CckmDeletionGuard with the two required keys, bundled, cdk-nag clean', {
    timeout: 120_000,
  }, () => {
    // A missing entry fails here, naming it, rather than skipping the test.
    expect(missingEntries()).toEqual([]);
    const r = npmSynth('-c', 'cckmUrl=https://cm.example.com', '-c', 'cckmSecretName=cckm/deletion-guard');
    expect(r.stderr).not.toMatch(/AwsSolutions-/);
    expect(r.status).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'CckmDeletionGuard.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::Lambda::Function');
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    // cdk-nag reports nothing; the Control Tower plugin only acknowledged (suppressed) findings.
    expect(report.pluginReports.map((r) => [r.pluginName, r.conclusion, r.violations])).toEqual([
      ['cdk-validator-cfnguard', 'success', []],
    ]);
  });
});
