import { describe, expect, it } from 'vitest';
import { HUB_CONTEXT_KEYS, hubFunctionEnvironment, parseHubContext } from '../../infra/hub-context.ts';
import { contextProblems } from '../helpers/context-problems.ts';

const problemsOf = (context: Record<string, unknown>, cli = {}) =>
  contextProblems(() => parseHubContext(context, cli));

describe('parseHubContext', () => {
  it('needs nothing without spokes: no hub keys, scope everywhere, no sync, SELF', () => {
    expect(parseHubContext({})).toEqual({
      organizationId: undefined,
      spokeAccounts: [],
      scopeAccounts: '*',
      scopeRegions: '*',
      sweepSync: false,
      hub: undefined,
      spokeRegions: [],
      spokeOrgUnits: [],
      stackSetCallAs: 'SELF',
    });
  });

  it('reads the issue example (organization, one OU, two Regions)', () => {
    const s = parseHubContext({
      hubAccount: '111122223333',
      hubRegion: 'us-east-1',
      organizationId: 'o-abc123defg',
      spokeOrgUnits: 'ou-ab12-cdefgh34',
      spokeRegions: 'us-east-1,eu-west-1',
    });
    expect(s.hub).toEqual({ account: '111122223333', region: 'us-east-1' });
    expect(s.organizationId).toBe('o-abc123defg');
    expect(s.spokeOrgUnits).toEqual(['ou-ab12-cdefgh34']);
    expect(s.spokeRegions).toEqual(['us-east-1', 'eu-west-1']);
  });

  it('defaults the hub to the CLI account and Region, and lets the context keys win', () => {
    const cli = { account: '444455556666', region: 'eu-west-1' };
    expect(parseHubContext({ spokeRegions: 'ap-south-1' }, cli).hub).toEqual(cli);
    expect(parseHubContext({ hubRegion: 'us-east-1' }, cli).hub).toEqual({
      account: '444455556666',
      region: 'us-east-1',
    });
  });

  it('stops when spokes are asked for and the hub is unknown, naming hubAccount and hubRegion', () => {
    const problems = problemsOf({ spokeRegions: 'eu-west-1' }, { account: '111122223333' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('hubAccount');
    expect(problems[0]).toContain('hubRegion');
  });

  it('ignores a malformed CLI default instead of building an ARN from it', () => {
    expect(parseHubContext({}, { account: 'unknown-account', region: 'us-east-1' }).hub).toBeUndefined();
  });

  it('refuses malformed ids with the key in the message', () => {
    const problems = problemsOf({
      organizationId: 'o-short',
      spokeAccounts: '12345',
      hubAccount: 'abc',
      hubRegion: 'Europe',
      spokeRegions: 'eu-west-1,*',
      spokeOrgUnits: 'ou-bad',
      stackSetCallAs: 'ADMIN',
      sweepSync: 'yes',
    });
    for (const key of [
      'organizationId',
      'spokeAccounts',
      'hubAccount',
      'hubRegion',
      'spokeRegions',
      'spokeOrgUnits',
      'stackSetCallAs',
      'sweepSync',
    ]) {
      expect(problems.some((p) => p.startsWith(`${key} `))).toBe(true);
    }
  });

  it('accepts an organization root id as a StackSet target', () => {
    const s = parseHubContext({
      hubAccount: '111122223333',
      hubRegion: 'us-east-1',
      organizationId: 'o-abc123defg',
      spokeOrgUnits: 'r-ab12',
      spokeRegions: 'eu-west-1',
    });
    expect(s.spokeOrgUnits).toEqual(['r-ab12']);
  });

  it('refuses spokeOrgUnits without spokeRegions, and without anything admitting the member accounts', () => {
    const problems = problemsOf({
      hubAccount: '111122223333',
      hubRegion: 'us-east-1',
      spokeOrgUnits: 'ou-ab12-cdefgh34',
    });
    expect(problems.some((p) => p.startsWith('spokeOrgUnits needs spokeRegions'))).toBe(true);
    expect(problems.some((p) => p.startsWith('spokeOrgUnits needs organizationId'))).toBe(true);
  });

  it('reads scope as * or a list, never both, and drops repeats', () => {
    const s = parseHubContext({
      scopeAccounts: '111122223333, 444455556666,111122223333',
      scopeRegions: '*',
    });
    expect(s.scopeAccounts).toEqual(['111122223333', '444455556666']);
    expect(s.scopeRegions).toBe('*');
    expect(problemsOf({ scopeRegions: '*,eu-west-1' })).toEqual([
      'scopeRegions is either * or a list of Region names, not both',
    ]);
    expect(problemsOf({ scopeAccounts: 'all' })[0]).toMatch(/^scopeAccounts has an entry/);
  });

  it('accepts cdk.json arrays and booleans', () => {
    const s = parseHubContext({ scopeRegions: ['eu-west-1', 'us-gov-west-1'], sweepSync: true });
    expect(s.scopeRegions).toEqual(['eu-west-1', 'us-gov-west-1']);
    expect(s.sweepSync).toBe(true);
  });

  it('maps scope and sweepSync to the functions environment', () => {
    const s = parseHubContext({ scopeAccounts: '111122223333', sweepSync: 'true' });
    expect(hubFunctionEnvironment(s)).toEqual({
      SCOPE_ACCOUNTS: '111122223333',
      SCOPE_REGIONS: '*',
      SWEEP_SYNC: 'true',
    });
  });

  it('lists exactly the keys it reads: a bad value under each is reported with that key', () => {
    for (const key of HUB_CONTEXT_KEYS) {
      const problems = problemsOf({ [key]: 'not valid!' }, { account: '111122223333', region: 'us-east-1' });
      expect(problems.some((p) => p.startsWith(`${key} `))).toBe(true);
    }
  });
});
