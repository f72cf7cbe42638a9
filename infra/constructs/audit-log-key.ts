import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { grantsOnlyForAwsServices } from '../compliance.ts';

/**
 * The customer-managed key of the stack's log groups (both functions' logs and the API access logs: the
 * guard's audit trail). Its own key, not the alarm topic's: the log groups outlive the stack, so this key
 * does too (RETAIN), while the alarm topic's key goes with its topic. Only CloudWatch Logs of this account
 * and Region uses it, and only for this account's log groups there (the encryption context CloudWatch
 * Logs sends names the log group). No function role is given any kms: action: Logs does the encrypting.
 */
export function auditLogKey(scope: Construct): kms.Key {
  const key = new kms.Key(scope, 'AuditLogKey', {
    description: 'Encrypts the CCKM Deletion Guard log groups (function logs and API access logs)',
    enableKeyRotation: true,
    // Retained log groups stay readable only while their key exists.
    removalPolicy: RemovalPolicy.RETAIN,
    pendingWindow: Duration.days(30),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
  key.addToResourcePolicy(grantsOnlyForAwsServices());
  return key;
}
