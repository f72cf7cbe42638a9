import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ContextError, DEFAULTS, parseGuardContext } from '../../infra/context.ts';
import { addGuardStacks } from '../../infra/guard-app.ts';
import { HUB_CONTEXT_KEYS } from '../../infra/hub-context.ts';

const STUB = lambda.Code.fromInline('exports.handler = async () => ({});');

const required = { cckmUrl: 'https://cm.example.com', cckmSecretName: 'cckm/deletion-guard' };

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    parseGuardContext(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ContextError);
    return [...(error as ContextError).problems];
  }
  throw new Error('expected a ContextError');
}

describe('parseGuardContext', () => {
  it('applies the documented defaults when only the required keys are given', () => {
    const s = parseGuardContext(required);
    expect(s).toMatchObject({
      cckmUrl: 'https://cm.example.com',
      cckmSecretName: 'cckm/deletion-guard',
      mode: 'remediate',
      reenable: 'if-previously-enabled',
      allowedPrincipals: [],
      exemptTag: 'deletion-guard:exempt=true',
      notifyEmails: [],
      sweepSchedule: 'rate(1 hour)',
      alarmNames: { exact: ['KMSKeyPendingDeletionErrorAlarm'], prefixes: ['cckm-deletion-guard'] },
      vpc: undefined,
      cloudTrailLogGroupName: undefined,
      allowedAccounts: [],
      vpcEndpointId: undefined,
      tlsInsecure: false,
      timeoutMs: DEFAULTS.timeoutMs,
      tracing: false,
      reservedConcurrency: undefined,
    });
  });

  it('names cckmUrl and cckmSecretName when both are missing', () => {
    const problems = problemsOf({});
    expect(problems).toEqual([
      'cckmUrl is required: -c cckmUrl=https://cm.example.com',
      'cckmSecretName is required: -c cckmSecretName=cckm/deletion-guard',
    ]);
  });

  it('puts every problem in the error message, each naming its key', () => {
    expect(() => parseGuardContext({ cckmSecretName: 'x' })).toThrow(
      /Invalid CDK context[\s\S]*cckmUrl is required/,
    );
  });

  it('refuses a plain http:// CipherTrust Manager URL', () => {
    expect(problemsOf({ ...required, cckmUrl: 'http://cm.example.com' })).toEqual([
      'cckmUrl must use https:// (plain http is refused)',
    ]);
  });

  it.each(['https://cm.example.com/api/v1', 'https://user:pw@cm.example.com', 'https://cm.example.com?x=1'])(
    'refuses %s because cckmUrl must be an origin only',
    (url) => {
      expect(problemsOf({ ...required, cckmUrl: url })[0]).toMatch(/^cckmUrl must be an origin only/);
    },
  );

  it('refuses something that is not a URL', () => {
    expect(problemsOf({ ...required, cckmUrl: 'cm.example.com' })[0]).toMatch(
      /^cckmUrl must be an https:\/\/ URL/,
    );
  });

  it('normalises the URL to its origin (no trailing slash) and keeps a non-default port', () => {
    expect(parseGuardContext({ ...required, cckmUrl: 'https://cm.example.com:8443/' }).cckmUrl).toBe(
      'https://cm.example.com:8443',
    );
  });

  it('refuses a secret ARN where a secret name is expected', () => {
    expect(
      problemsOf({
        ...required,
        cckmSecretName: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf',
      })[0],
    ).toMatch(/^cckmSecretName must be a Secrets Manager secret name/);
  });

  it('requires subnetIds with vpcId', () => {
    expect(problemsOf({ ...required, vpcId: 'vpc-0123456789abcdef0' })).toEqual([
      'vpcId needs subnetIds too: -c subnetIds=subnet-aaa,subnet-bbb',
    ]);
  });

  it('requires vpcId with subnetIds', () => {
    expect(problemsOf({ ...required, subnetIds: 'subnet-0123456789abcdef0' })).toEqual([
      'subnetIds needs vpcId too: -c vpcId=vpc-...',
    ]);
  });

  it('parses a VPC placement from a comma-separated subnet list', () => {
    const s = parseGuardContext({
      ...required,
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
    });
    expect(s.vpc).toEqual({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
  });

  it('accepts arrays and booleans as cdk.json would hold them', () => {
    const s = parseGuardContext({
      ...required,
      tlsInsecure: true,
      tracing: 'TRUE',
      allowedAccounts: ['111122223333', '444455556666'],
      timeoutMs: 12000,
    });
    expect(s).toMatchObject({
      tlsInsecure: true,
      tracing: true,
      allowedAccounts: ['111122223333', '444455556666'],
      timeoutMs: 12000,
    });
  });

  it.each([
    [{ mode: 'fix' }, 'mode must be remediate or detect'],
    [{ reenable: 'sometimes' }, 'reenable must be never, always or if-previously-enabled'],
    [{ exemptTag: 'exempt' }, 'exemptTag must be key=value, e.g. deletion-guard:exempt=true'],
    [{ tlsInsecure: 'yes' }, 'tlsInsecure must be true or false'],
    [{ timeoutMs: '30000' }, 'timeoutMs must be a whole number from 1000 to 20000 (got "30000")'],
    [{ timeoutMs: '1.5' }, 'timeoutMs must be a whole number from 1000 to 20000 (got "1.5")'],
    [{ reservedConcurrency: '0' }, 'reservedConcurrency must be a whole number from 1 to 1000 (got "0")'],
    [{ vpcEndpointId: 'vpc-123' }, 'vpcEndpointId must look like vpce-0123456789abcdef0'],
    [
      { cloudTrailLogGroupName: 'has space' },
      'cloudTrailLogGroupName must be a CloudWatch Logs log group name',
    ],
    [{ allowedAccounts: '1234' }, 'allowedAccounts has an entry that is not a 12-digit account id: "1234"'],
    [{ notifyEmail: 'ops' }, 'notifyEmail has an entry that is not an e-mail address: "ops"'],
    [
      { allowedPrincipals: 'arn:aws:iam::111122223333:role/ok,admin' },
      'allowedPrincipals has an entry that is not an IAM or STS ARN pattern with at most 16 *: "admin"',
    ],
  ])('rejects %o', (context, message) => {
    expect(problemsOf({ ...required, ...context })).toEqual([message]);
  });

  it('refuses an allowedPrincipals list too long for the Lambda environment', () => {
    const many = Array.from({ length: 60 }, (_, i) => `arn:aws:iam::111122223333:role/key-admin-${i}`).join(
      ',',
    );
    expect(problemsOf({ ...required, allowedPrincipals: many })).toEqual([
      'allowedPrincipals is too long (over 2500 characters): use * wildcards to shorten the list',
    ]);
  });

  it.each(['rate(1 hour)', 'rate(15 minutes)', 'rate(2 days)', 'cron(0/30 * * * ? *)'])(
    'accepts the sweep schedule %s',
    (expr) => {
      expect(parseGuardContext({ ...required, sweepSchedule: expr }).sweepSchedule).toBe(expr);
    },
  );

  it.each(['rate(1 hours)', 'rate(5 minute)', 'every hour', 'cron(0 * * *)'])(
    'rejects the sweep schedule %s',
    (expr) => {
      expect(problemsOf({ ...required, sweepSchedule: expr })[0]).toMatch(/^sweepSchedule/);
    },
  );

  it('splits alarmNames into exact names and prefixes (a trailing *)', () => {
    expect(parseGuardContext({ ...required, alarmNames: 'a-alarm, team-kms-*' }).alarmNames).toEqual({
      exact: ['a-alarm'],
      prefixes: ['team-kms-'],
    });
  });

  it('reports a context key spelled with the wrong case', () => {
    expect(problemsOf({ ...required, notifyemail: 'ops@example.com' })).toEqual([
      'unknown context key "notifyemail": did you mean "notifyEmail"?',
    ]);
  });

  it('reports a misspelled hub-and-spoke key too', () => {
    expect(problemsOf({ ...required, spokeregions: 'eu-west-1', HubAccount: '111122223333' })).toEqual([
      'unknown context key "spokeregions": did you mean "spokeRegions"?',
      'unknown context key "HubAccount": did you mean "hubAccount"?',
    ]);
  });

  it('accepts every hub-and-spoke key as its own', () => {
    expect(() =>
      parseGuardContext({ ...required, ...Object.fromEntries(HUB_CONTEXT_KEYS.map((k) => [k, 'x'])) }),
    ).not.toThrow();
  });

  it('reports the problems of both context modules in one message when the app parses them', () => {
    const app = new App({
      context: { ...required, mode: 'fix', hubAccount: '12', spokeRegions: 'eu-west-1' },
    });
    let caught: unknown;
    try {
      addGuardStacks(app, { cli: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ContextError);
    const problems = (caught as ContextError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^mode /);
    expect(problems[1]).toMatch(/^hubAccount must look like 123456789012/);
    expect(app.node.children).toEqual([]);
  });

  it('needs no hub key without spokes, and names both when spokes are asked for without them', () => {
    const stacks = (context: Record<string, unknown>) =>
      addGuardStacks(new App({ context: { 'aws:cdk:bundling-stacks': [], ...required, ...context } }), {
        cli: {},
        code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
      }).stacks.map((st) => st.stackName);
    expect(stacks({})).toEqual(['CckmDeletionGuard']);
    expect(() => stacks({ spokeRegions: 'eu-west-1' })).toThrow(/hubAccount=.*hubRegion=/);
  });

  it('takes the hub location from the CLI defaults (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION)', () => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], ...required, spokeRegions: 'eu-west-1' },
    });
    const { hub, spokes } = addGuardStacks(app, {
      cli: { account: '111122223333', region: 'us-east-1' },
      code: { 'cancel-deletion': STUB, 'remediate-deletion': STUB },
    });
    expect(hub.hub).toEqual({ account: '111122223333', region: 'us-east-1' });
    expect(spokes.regional.map((st) => [st.stackName, st.account])).toEqual([
      ['CckmDeletionGuardSpoke-eu-west-1', '111122223333'],
    ]);
  });

  it('ignores context keys that are not its own (CDK feature flags, CLI settings)', () => {
    expect(() =>
      parseGuardContext({
        ...required,
        'cli-telemetry': false,
        '@aws-cdk/core:newStyleStackSynthesis': true,
      }),
    ).not.toThrow();
  });
});
