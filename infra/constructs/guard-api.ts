import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SERVICE_NAME } from '../../functions/shared/telemetry.ts';
import { acknowledgeControl } from '../compliance.ts';
import type { GuardSettings } from '../context.ts';

type ApiSettings = Pick<GuardSettings, 'allowedAccounts' | 'vpcEndpointId' | 'tracing'>;

export interface GuardApiProps {
  readonly settings: ApiSettings;
  /** The function behind both routes (Lambda proxy integration). */
  readonly handler: lambda.IFunction;
  readonly logRetention: logs.RetentionDays;
  /** Customer-managed key of the access log group. */
  readonly logKey?: kms.IKey;
}

/**
 * The REST API of contract section 3: two IAM-authorised routes, request validation, the optional
 * resource policy (accounts, VPC endpoint) and JSON access logs. Its resources are added to `scope`
 * directly, not under a construct of their own, so a deployed stack keeps every logical id.
 */
export class GuardApi {
  readonly api: apigw.RestApi;

  constructor(scope: Construct, props: GuardApiProps) {
    const s = props.settings;
    const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const vpcEndpoint = s.vpcEndpointId
      ? ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(scope, 'ApiVpcEndpoint', {
          vpcEndpointId: s.vpcEndpointId,
          port: 443,
        })
      : undefined;

    const api = new apigw.RestApi(scope, 'Api', {
      restApiName: SERVICE_NAME,
      description: 'CCKM Deletion Guard: cancel a scheduled KMS key deletion (IAM-signed)',
      endpointConfiguration: vpcEndpoint
        ? { types: [apigw.EndpointType.PRIVATE], vpcEndpoints: [vpcEndpoint] }
        : { types: [apigw.EndpointType.REGIONAL] },
      policy: apiPolicy(s),
      // Execution logging needs the account-level API Gateway CloudWatch role; kept on stack removal
      // because other APIs of the account rely on it too.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            caller: apigw.AccessLogField.contextIdentityUserArn(),
            accountId: apigw.AccessLogField.contextIdentityAccountId(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            path: apigw.AccessLogField.contextPath(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            latencyMs: apigw.AccessLogField.contextResponseLatency(),
            error: apigw.AccessLogField.contextErrorMessage(),
            validationError: apigw.AccessLogField.contextErrorValidationErrorString(),
          }),
        ),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies stay out of the execution log.
        dataTraceEnabled: false,
        // Per-method metrics are billed as custom metrics; the free stage-level ones suffice.
        metricsEnabled: false,
        tracingEnabled: s.tracing,
        throttlingRateLimit: 10,
        throttlingBurstLimit: 20,
      },
    });
    this.api = api;
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway logging role uses the AWS-documented managed policy for pushing execution and access logs; it is used by API Gateway only, never by the guard functions.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are operators and tools with AWS credentials: every method uses AWS_IAM (SigV4) authorization, which is stronger here than a Cognito user pool.',
    });
    if (!s.tracing) {
      acknowledgeControl(
        api.deploymentStage,
        'CT.APIGATEWAY.PR.2',
        "X-Ray tracing of the stage is the operator's choice (-c tracing=true turns it on for the stage and both functions); it is off by default because traces cost money and the access log already records every call.",
      );
    }
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method is IAM-authorized and the stage is throttled; unsigned requests are refused before any integration runs, so a WAF web ACL adds cost without adding a control. Attach one if the account policy requires it.',
    });

    const integration = new apigw.LambdaIntegration(props.handler, {
      proxy: true,
      allowTestInvoke: false,
    });
    // One validator for both routes: it checks the required path parameter and, where a model is
    // declared, the body; a route without a model has no body check.
    const validator = api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const awsKeyModel = api.addModel('AwsKeyCancelRequest', {
      contentType: 'application/json',
      modelName: 'AwsKeyCancelRequest',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'AwsKeyCancelRequest',
        type: apigw.JsonSchemaType.OBJECT,
        additionalProperties: false,
        properties: {
          arn: { type: apigw.JsonSchemaType.STRING, pattern: '^arn:aws[a-z-]*:kms:', maxLength: 2048 },
          keyId: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 2048 },
          region: { type: apigw.JsonSchemaType.STRING, pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' },
          enable: { type: apigw.JsonSchemaType.BOOLEAN },
        },
        oneOf: [{ required: ['arn'] }, { required: ['keyId', 'region'] }],
      },
    });

    // The body of this route is optional (`{"enable": true}` or nothing), and API Gateway would reject
    // an empty body against a model, so no model is declared here; the function checks the body.
    api.root
      .addResource('keys')
      .addResource('{id}')
      .addResource('cancel-deletion')
      .addMethod('POST', integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestParameters: { 'method.request.path.id': true },
        requestValidator: validator,
      });
    api.root
      .addResource('aws-keys')
      .addResource('cancel-deletion')
      .addMethod('POST', integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestValidator: validator,
        requestModels: { 'application/json': awsKeyModel },
      });
  }
}

/** The API's resource policy, or none when neither accounts nor a VPC endpoint restrict it. */
function apiPolicy(s: ApiSettings): iam.PolicyDocument | undefined {
  if (s.allowedAccounts.length === 0 && s.vpcEndpointId === undefined) return undefined;
  // This account is always allowed: the operators who deployed the guard may call it.
  const accounts = [Aws.ACCOUNT_ID, ...s.allowedAccounts];
  const statements = [
    new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      principals: accounts.map((a) => new iam.AccountPrincipal(a)),
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
    }),
  ];
  // Each restriction is a Deny on Invoke unless its condition key matches.
  const denyUnless = (key: string, allowed: string | string[]) =>
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { StringNotEquals: { [key]: allowed } },
    });
  if (s.allowedAccounts.length > 0) statements.push(denyUnless('aws:PrincipalAccount', accounts));
  if (s.vpcEndpointId !== undefined) statements.push(denyUnless('aws:SourceVpce', s.vpcEndpointId));
  return new iam.PolicyDocument({ statements });
}
