import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import {
  LEDGER_ATTRIBUTE_DEFINITIONS,
  LEDGER_KEY_SCHEMA,
  LEDGER_TTL_ATTRIBUTE,
} from '../../functions/shared/ledger-schema.ts';
import { LedgerTable } from '../../infra/constructs/ledger-table.ts';
import { nagFindings } from './helpers.ts';

function make() {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'T');
  const ledger = new LedgerTable(stack, 'Ledger');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  ledger.grantLedgerAccess(role);
  const template = Template.fromStack(stack);
  const [tableId, table] = Object.entries(template.findResources('AWS::DynamoDB::Table'))[0]!;
  return {
    app,
    template,
    tableId,
    table: table as { Properties: Record<string, unknown> } & Record<string, unknown>,
  };
}

describe('LedgerTable', () => {
  it('is on-demand, with point-in-time recovery, deletion protection and the spec keys and TTL', () => {
    const { table } = make();
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true },
      KeySchema: LEDGER_KEY_SCHEMA,
      AttributeDefinitions: LEDGER_ATTRIBUTE_DEFINITIONS,
    });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
  });

  it('is encrypted with the AWS managed key, so no function needs a kms permission', () => {
    const { table, template } = make();
    // SSEEnabled without a KMSMasterKeyId is KMS encryption with the AWS managed key aws/dynamodb.
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(Object.keys(template.findResources('AWS::KMS::Key'))).toEqual([]);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties
          .PolicyDocument.Statement,
    );
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('is retained when the stack goes away', () => {
    expect(make().table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('grants exactly the four item actions the adapter uses, on the table ARN only', () => {
    const { template, tableId } = make();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:BatchGetItem',
              'dynamodb:BatchWriteItem',
              'dynamodb:PutItem',
              'dynamodb:Query',
            ],
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          },
        ],
      },
    });
  });

  it('has no cdk-nag AwsSolutions finding', () => {
    expect(nagFindings(make().app)).toEqual([]);
  });
});
