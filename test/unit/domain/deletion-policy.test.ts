import { describe, expect, it } from 'vitest';
import { decideKey, matchAllowedPrincipal } from '../../../functions/domain/deletion-policy.ts';
import type { Actor } from '../../../functions/domain/event-identity.ts';
import { carriesExemptTag } from '../../../functions/domain/managed-key.ts';
import { MAX_MATCHED_ARN_LENGTH } from '../../../functions/domain/principal-glob.ts';
import type { Mode, Reenable } from '../../../functions/shared/settings.ts';
import { key, policyOf } from '../../helpers/fake-cckm.ts';

const ALICE: Actor = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/Alice' };
const BOB: Actor = {
  type: 'AssumedRole',
  arn: 'arn:aws:sts::111122223333:assumed-role/Dev/bob',
  issuerArn: 'arn:aws:iam::111122223333:role/Dev',
};
const EXEMPT = { key: 'deletion-guard:exempt', value: 'true' };

describe('ALLOWED_PRINCIPALS globs', () => {
  it.each([
    ['arn:aws:iam::111122223333:user/Alice', 'arn:aws:iam::111122223333:user/Alice', true],
    ['arn:aws:iam::111122223333:user/*', 'arn:aws:iam::111122223333:user/Alice', true],
    ['arn:aws:iam::*:role/Dev', 'arn:aws:iam::111122223333:role/Dev', true],
    ['*', 'arn:aws:iam::111122223333:user/Alice', true],
    // Anchored: a prefix or suffix of the ARN is not a match.
    ['arn:aws:iam::111122223333:user/Ali', 'arn:aws:iam::111122223333:user/Alice', false],
    ['user/Alice', 'arn:aws:iam::111122223333:user/Alice', false],
    // Case-sensitive.
    ['arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/Alice', false],
    // `.` and `+` are literal, not regex operators.
    ['arn:aws:iam::111122223333:user/a.b', 'arn:aws:iam::111122223333:user/axb', false],
    ['arn:aws:iam::111122223333:user/a+b', 'arn:aws:iam::111122223333:user/aab', false],
    ['arn:aws:iam::111122223333:user/a+b', 'arn:aws:iam::111122223333:user/a+b', true],
    // `**` is one `*`; an empty middle segment never lets the segments overlap.
    ['arn:aws:iam::**:role/Dev', 'arn:aws:iam::111122223333:role/Dev', true],
    ['arn:aws:iam::*1**1*:role/Dev', 'arn:aws:iam::111122223333:role/Dev', true],
    ['arn:aws:iam::*1**1*:role/Dev', 'arn:aws:iam::1:role/Dev', false],
    ['arn:*:iam::1**:user/Alice', 'arn:aws:iam::111122223333:user/Alice', true],
  ])('%s against %s: %s', (glob, arn, matches) => {
    expect(matchAllowedPrincipal({ type: 'IAMUser', arn }, [glob]) !== undefined).toBe(matches);
  });

  it('never matches an ARN longer than the matcher accepts, even against *', () => {
    const arn = `arn:aws:sts::111122223333:assumed-role/Dev/${'s'.repeat(MAX_MATCHED_ARN_LENGTH)}`;
    expect(matchAllowedPrincipal({ type: 'AssumedRole', arn }, ['*'])).toBeUndefined();
  });

  it('decides a many-star pattern against a long CloudTrail ARN by scanning, not backtracking', () => {
    // As a regular expression this pattern took seconds on a 544-character ARN, and one more `/*` minutes.
    const arn = `arn:aws:iam::111122223333:role/${'a/'.repeat(250)}x`;
    expect(arn.length).toBeGreaterThan(500);
    const glob = 'arn:aws:iam::*:*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*-admin';
    expect(matchAllowedPrincipal({ type: 'AssumedRole', arn }, [glob])).toBeUndefined();
  });

  it('matches the session issuer of an assumed role, not only the session ARN', () => {
    expect(matchAllowedPrincipal(BOB, ['arn:aws:iam::111122223333:role/Dev'])).toEqual({
      pattern: 'arn:aws:iam::111122223333:role/Dev',
      arn: 'arn:aws:iam::111122223333:role/Dev',
    });
    expect(matchAllowedPrincipal(BOB, ['arn:aws:sts::111122223333:assumed-role/Dev/*'])?.arn).toBe(BOB.arn);
  });

  it('never matches an unknown actor or an empty list', () => {
    expect(matchAllowedPrincipal(undefined, ['*'])).toBeUndefined();
    expect(matchAllowedPrincipal({ type: 'AWSService', invokedBy: 'x' }, ['*'])).toBeUndefined();
    expect(matchAllowedPrincipal(ALICE, [])).toBeUndefined();
  });
});

describe('EXEMPT_TAG', () => {
  const tag = { key: 'deletion-guard:exempt', value: 'true' };
  it('needs the exact key and value', () => {
    expect(carriesExemptTag(key({ tags: [EXEMPT] }), tag)).toBe(true);
    expect(carriesExemptTag(key({ tags: [{ key: 'deletion-guard:exempt', value: 'True' }] }), tag)).toBe(
      false,
    );
    expect(carriesExemptTag(key({ tags: [{ key: 'env', value: 'true' }] }), tag)).toBe(false);
    expect(carriesExemptTag(key({ tags: [] }), tag)).toBe(false);
  });
});

describe('decideKey: every policy combination', () => {
  const modes: Mode[] = ['remediate', 'detect'];
  const reenables: Reenable[] = ['never', 'always', 'if-previously-enabled'];
  // `Enabled` is CCKM's stale copy of a key scheduled directly in AWS; `PendingDeletion` a synced one.
  const states = ['Enabled', 'PendingDeletion'] as const;
  const rows = modes.flatMap((mode) =>
    reenables.flatMap((reenable) =>
      [false, true].flatMap((allowed) =>
        [false, true].flatMap((exempt) =>
          states.map((state) => ({ mode, reenable, allowed, exempt, state })),
        ),
      ),
    ),
  );

  it.each(rows)(
    '$mode / REENABLE=$reenable / allowed=$allowed / exempt=$exempt / CCKM shows $state',
    (row) => {
      const decision = decideKey({
        policy: policyOf({
          mode: row.mode,
          reenable: row.reenable,
          allowedPrincipals: row.allowed
            ? ['arn:aws:iam::111122223333:role/*']
            : ['arn:aws:iam::999999999999:*'],
        }),
        key: key({ state: row.state, tags: row.exempt ? [EXEMPT] : [] }),
        source: 'event',
        actor: BOB,
      });
      const enable =
        row.reenable === 'always' || (row.reenable === 'if-previously-enabled' && row.state === 'Enabled');
      const expected = row.exempt
        ? { action: 'skip', outcome: 'exempt' }
        : row.allowed
          ? { action: 'skip', outcome: 'allowed' }
          : row.mode === 'detect'
            ? { action: 'skip', outcome: 'detected' }
            : { action: 'cancel', enable };
      expect(decision).toMatchObject(expected);
      if (decision.action === 'skip' && decision.outcome === 'detected') {
        expect(decision.reason).toContain(enable ? 'and enable' : 'stay disabled');
      }
    },
  );

  it('cancels on an event even when CCKM shows the key Enabled (its copy is stale)', () => {
    expect(
      decideKey({ policy: policyOf(), key: key({ state: 'Enabled' }), source: 'event', actor: ALICE }),
    ).toEqual({
      action: 'cancel',
      enable: true,
      reason: 'cancel and enable (REENABLE=if-previously-enabled)',
    });
  });

  it.each([
    ['remediate', 'always', 'cancel and enable (REENABLE=always)'],
    ['remediate', 'never', 'cancel only (REENABLE=never)'],
    ['detect', 'always', 'detect mode: would cancel the deletion and enable the key'],
    ['detect', 'never', 'detect mode: would cancel the deletion (the key would stay disabled)'],
  ] as const)('gives in %s mode with REENABLE=%s the reason "%s"', (mode, reenable, reason) => {
    const decision = decideKey({
      policy: policyOf({ mode, reenable }),
      key: key({ state: 'Enabled' }),
      source: 'event',
      actor: ALICE,
    });
    expect(decision.reason).toBe(reason);
  });

  it('skips as not-pending on a sweep when the fresh CCKM record is no longer pending', () => {
    expect(decideKey({ policy: policyOf(), key: key({ state: 'Disabled' }), source: 'sweep' })).toMatchObject(
      {
        action: 'skip',
        outcome: 'not-pending',
      },
    );
  });

  it('treats PendingReplicaDeletion as pending on a sweep', () => {
    expect(
      decideKey({ policy: policyOf(), key: key({ state: 'PendingReplicaDeletion' }), source: 'sweep' }),
    ).toMatchObject({
      action: 'cancel',
      enable: false,
    });
  });

  it('skips a key CCKM marks gone as not-pending, before any other rule', () => {
    expect(
      decideKey({
        policy: policyOf(),
        key: key({ gone: true, tags: [EXEMPT] }),
        source: 'event',
        actor: ALICE,
      }),
    ).toMatchObject({ action: 'skip', outcome: 'not-pending', reason: expect.stringContaining('gone') });
  });

  it('never allows on a sweep, which has no actor, even with a "*" allow-list', () => {
    expect(
      decideKey({ policy: policyOf({ allowedPrincipals: ['*'] }), key: key(), source: 'sweep' }),
    ).toMatchObject({
      action: 'cancel',
    });
  });
});
