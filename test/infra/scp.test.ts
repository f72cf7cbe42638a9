import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXEMPT_TAG } from '../../functions/shared/settings.ts';
import { PROJECT_ROOT } from './helpers.ts';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition: Record<string, Record<string, string[]>>;
  Principal?: unknown;
}

const text = readFileSync(`${PROJECT_ROOT}/infra/scp/protect-deletion-guard.json`, 'utf8');
const policy = JSON.parse(text) as { Version: string; Statement: Statement[] };

// Actions as the Service Authorization Reference spells them (CloudFormation, EventBridge, Lambda, IAM, KMS).
const KNOWN_ACTIONS = new Set([
  'cloudformation:DeleteStack',
  'cloudformation:UpdateStack',
  'cloudformation:CreateChangeSet',
  'cloudformation:ExecuteChangeSet',
  'events:DeleteRule',
  'events:DisableRule',
  'events:PutRule',
  'events:PutTargets',
  'events:RemoveTargets',
  'events:DeleteEventBus',
  'events:PutPermission',
  'events:RemovePermission',
  'lambda:DeleteFunction',
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:PutFunctionConcurrency',
  'lambda:AddPermission',
  'lambda:RemovePermission',
  'lambda:PutFunctionEventInvokeConfig',
  'lambda:DeleteFunctionEventInvokeConfig',
  'iam:DeleteRole',
  'iam:UpdateRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
]);
// Global condition keys (IAM User Guide, "AWS global condition context keys") and the operators used.
const KNOWN_CONDITION_KEYS = new Set(['aws:PrincipalArn', 'aws:TagKeys']);
const KNOWN_OPERATORS = new Set(['ArnNotLike', 'ForAnyValue:StringEquals']);

describe('service control policy protecting the guard', () => {
  it('is a deny-only SCP within the 5120-character limit, without Principal (SCPs have none)', () => {
    expect(policy.Version).toBe('2012-10-17');
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(5120);
    for (const st of policy.Statement) {
      expect(st.Effect).toBe('Deny');
      expect(st.Principal).toBeUndefined();
      expect(st.Sid).toMatch(/^[A-Za-z0-9]+$/);
    }
  });

  it('names only actions that exist, spelled as AWS spells them', () => {
    const actions = policy.Statement.flatMap((st) => st.Action);
    expect(actions.filter((a) => !KNOWN_ACTIONS.has(a))).toEqual([]);
  });

  it('uses only real condition keys and operators, each statement exempting a named role', () => {
    for (const st of policy.Statement) {
      for (const [operator, keys] of Object.entries(st.Condition)) {
        expect(KNOWN_OPERATORS.has(operator), operator).toBe(true);
        for (const key of Object.keys(keys)) expect(KNOWN_CONDITION_KEYS.has(key), key).toBe(true);
      }
      expect(st.Condition.ArnNotLike?.['aws:PrincipalArn']?.[0]).toMatch(
        /^arn:aws:iam::\*:role\/[\w+=,.@-]+$/,
      );
    }
  });

  it('guards the exempt tag key the guard honours by default', () => {
    const tagging = policy.Statement.find((st) => st.Action.includes('kms:TagResource'));
    expect(tagging?.Condition['ForAnyValue:StringEquals']?.['aws:TagKeys']).toEqual([
      DEFAULT_EXEMPT_TAG.split('=')[0],
    ]);
    expect(tagging?.Action).toEqual(['kms:TagResource', 'kms:UntagResource']);
  });
});
