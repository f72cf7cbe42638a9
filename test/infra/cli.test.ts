import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingEntries, PROJECT_ROOT } from './helpers.ts';

const outDirs: string[] = [];
afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * `npm run synth` as a user runs it, with no AWS credentials, profile or instance metadata (nor the CLI's
 * account and Region: the hub location comes from context only), into a fresh output directory.
 *
 * One attempt is bounded (a synth takes 3-12 s here). On a loaded 2-core machine the app's TypeScript
 * loader (tsx, over an esbuild service process) has been seen to hang for good once in a dozen full runs,
 * its esbuild child dead: an attempt that hangs is killed with its whole process group and made once
 * more, saying so. Any answer, failed or not, is returned as it is: only a hang is retried.
 */
function npmSynth(...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'guard-synth-'));
  outDirs.push(out);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|REGION|DEFAULT_REGION)|CDK_DEFAULT_(ACCOUNT|REGION))$/.test(
          k,
        ),
    ),
  );
  const attempt = () => {
    // setsid: npm leads a process group of its own, so a hang is ended with cdk and the app under it.
    const result = spawnSync('setsid', ['npm', 'run', '--silent', 'synth', '--', '--output', out, ...args], {
      cwd: PROJECT_ROOT,
      // CDK's built-in CloudFormation validation is covered in nag.test.ts; skipping it here saves ~10 s.
      env: {
        ...env,
        AWS_EC2_METADATA_DISABLED: 'true',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        CDK_VALIDATION: 'false',
      },
      encoding: 'utf8',
      timeout: SYNTH_ATTEMPT_MS,
      killSignal: 'SIGKILL',
    });
    const hung = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (hung && result.pid) {
      try {
        process.kill(-result.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
    return { result, hung };
  };
  let { result, hung } = attempt();
  if (hung) {
    process.stderr.write(`npm run synth hung for ${SYNTH_ATTEMPT_MS} ms and was killed; trying once more\n`);
    ({ result } = attempt());
  }
  return { ...result, out };
}

/** One synth attempt's bound: twice it stays inside the tests' timeouts. */
const SYNTH_ATTEMPT_MS = 50_000;

interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The synthesized stacks by name, with their template sizes in bytes. */
function templates(out: string): Record<string, number> {
  return Object.fromEntries(
    readdirSync(out)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f.replace(/\.template\.json$/, ''), statSync(join(out, f)).size]),
  );
}

describe('npm run synth (CDK CLI, offline)', () => {
  it('fails with a message naming the missing context key', { timeout: 120_000 }, () => {
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
    const template = JSON.parse(readFileSync(join(r.out, 'CckmDeletionGuard.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::Lambda::Function');
    // No hub key: the hub alone, no spoke.
    expect(Object.keys(templates(r.out))).toEqual(['CckmDeletionGuard']);
    const report = readJson<ValidationReport>(join(r.out, 'validation-report.json'));
    // cdk-nag reports nothing; the Control Tower plugin only acknowledged (suppressed) findings.
    expect(report.pluginReports.map((r) => [r.pluginName, r.conclusion, r.violations])).toEqual([
      ['cdk-validator-cfnguard', 'success', []],
    ]);
  });

  it('synthesizes the hub and its spokes offline from the issue’s hub-and-spoke context, with no finding', {
    timeout: 120_000,
  }, () => {
    const r = npmSynth(
      ...['cckmUrl=https://cm.example.com', 'cckmSecretName=cckm/x', 'hubAccount=111122223333']
        .concat(['hubRegion=us-east-1', 'organizationId=o-abc123defg', 'spokeOrgUnits=ou-ab12-cdefgh34'])
        .concat(['spokeRegions=us-east-1,eu-west-1'])
        .flatMap((kv) => ['-c', kv]),
    );
    expect(r.stderr).not.toMatch(/AwsSolutions-|cdk-validator-cfnguard::/);
    expect(r.status).toBe(0);
    // The hub Region (us-east-1) gets no spoke stack: the hub's default-bus rules cover it.
    expect(Object.keys(templates(r.out)).sort()).toEqual([
      'CckmDeletionGuard',
      'CckmDeletionGuardOrgSpokes',
      'CckmDeletionGuardSpoke-eu-west-1',
    ]);
    const spoke = readJson<{
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    }>(join(r.out, 'CckmDeletionGuardSpoke-eu-west-1.template.json'));
    const targets = Object.values(spoke.Resources)
      .filter((res) => res.Type === 'AWS::Events::Rule')
      .flatMap((res) => res.Properties.Targets as { Arn: unknown }[]);
    expect(targets).toHaveLength(2);
    for (const t of targets) {
      expect(JSON.stringify(t.Arn)).toContain(':events:us-east-1:111122223333:event-bus/cckm-deletion-guard');
    }
    const report = readJson<ValidationReport>(join(r.out, 'validation-report.json'));
    expect(report.pluginReports.map((p) => [p.pluginName, p.conclusion, p.violations])).toEqual([
      ['cdk-validator-cfnguard', 'success', []],
    ]);
  });
});
