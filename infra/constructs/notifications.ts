import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { grantsOnlyForAwsServices } from '../compliance.ts';

/**
 * The guard's two SNS topics: outcomes (`NotifyTopic`) and operational alarms (`AlarmTopic`, with its
 * key). Its resources are added to `scope` directly, not under a construct of their own, so a deployed
 * stack keeps every logical id (a changed id would make CloudFormation replace the resource).
 */
export class NotificationTopics {
  readonly notifyTopic: sns.Topic;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, props: { readonly emails: readonly string[] }) {
    // Guard outcomes. The AWS-managed SNS key encrypts at rest without any kms:* permission on the
    // publishing function: its key policy lets every principal of the account use it through SNS.
    this.notifyTopic = new sns.Topic(scope, 'NotifyTopic', {
      displayName: 'CCKM Deletion Guard',
      masterKey: kms.Alias.fromAliasName(scope, 'AwsManagedSnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    // Operational alarms. CloudWatch cannot publish to a topic under the AWS-managed key (its key
    // policy does not admit cloudwatch.amazonaws.com; https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns),
    // so this topic has a customer-managed key whose policy lets CloudWatch use it. No function
    // publishes here, so no function needs that key.
    const alarmArns = `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`;
    const alarmTopicKey = new kms.Key(scope, 'AlarmTopicKey', {
      description: 'Encrypts the CCKM Deletion Guard alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        // Confused-deputy guard: only this account's alarms, in this Region.
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': alarmArns },
        },
      }),
    );
    alarmTopicKey.addToResourcePolicy(grantsOnlyForAwsServices());
    this.alarmTopic = new sns.Topic(scope, 'AlarmTopic', {
      displayName: 'CCKM Deletion Guard alarms',
      masterKey: alarmTopicKey,
      enforceSSL: true,
    });
    // The TLS-only topic policy replaces SNS's default policy, so CloudWatch needs its own allow.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': alarmArns },
        },
      }),
    );
    for (const email of props.emails) {
      this.notifyTopic.addSubscription(new subscriptions.EmailSubscription(email));
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
