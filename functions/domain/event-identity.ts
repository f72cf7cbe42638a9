import type { AwsKeyRef } from './aws-key-ref.ts';
import { isAccountId, isAliasName, isAwsKeyId, isRegion, keyArnRef, parseKeyIdRef } from './aws-key-ref.ts';
import type { Json } from './event-json.ts';
import { obj, str } from './event-json.ts';

/** Who made a CloudTrail call and which key it named, read from the record's `detail`. */

/** Who made the CloudTrail call, reduced to what the allow-list and a reader need. */
export interface Actor {
  /** `IAMUser`, `AssumedRole`, `Root`, `AWSService`, ... as CloudTrail says. */
  readonly type?: string;
  /** `userIdentity.arn` (an STS session ARN for assumed roles). */
  readonly arn?: string;
  /** `userIdentity.sessionContext.sessionIssuer.arn`: the role behind an assumed-role session. */
  readonly issuerArn?: string;
  /** `userIdentity.invokedBy`: the AWS service acting for the caller. */
  readonly invokedBy?: string;
}

/** The key an event names: resolved to an AWS reference when possible, else the text as given. */
export interface EventKey {
  /** Present when the reference resolved to a KeyId and Region. */
  readonly ref?: AwsKeyRef;
  /** The identifier as the caller passed it (KeyId, ARN, alias name or alias ARN). */
  readonly given?: string;
  /** Present when the caller named the key by alias (only possible for calls that failed). */
  readonly alias?: string;
  readonly account?: string;
  readonly region?: string;
}

/** Reads `userIdentity`; missing or odd fields are undefined. */
export function readActor(value: unknown): Actor {
  const identity = obj(value);
  const issuer = obj(obj(identity?.sessionContext)?.sessionIssuer);
  return {
    type: str(identity?.type, 64),
    arn: str(identity?.arn),
    issuerArn: str(issuer?.arn),
    invokedBy: str(identity?.invokedBy, 256),
  };
}

/** One line naming the actor for logs and notifications. */
export function describeActor(actor: Actor | undefined): string {
  if (!actor) return 'unknown';
  return (
    actor.arn ?? actor.issuerArn ?? actor.invokedBy ?? (actor.type ? `${actor.type} (no ARN)` : 'unknown')
  );
}

/**
 * Resolves the key a CloudTrail record names: `responseElements.keyId` (always the ARN on success),
 * else `detail.resources[0].ARN`, else `requestParameters.keyId` with the event's Region and account.
 */
export function resolveEventKey(
  detail: Json,
  region: string | undefined,
  account: string | undefined,
): EventKey {
  const response = obj(detail.responseElements);
  const resources = Array.isArray(detail.resources) ? detail.resources : [];
  const given = str(obj(detail.requestParameters)?.keyId);
  for (const candidate of [response?.keyId, obj(resources[0])?.ARN, given]) {
    const ref = keyArnRef(candidate);
    if (ref) return { ref, given: ref.arn, account: ref.account, region: ref.region };
  }
  const unresolved: EventKey = { given, account, region };
  if (given === undefined) return unresolved;
  if (given.startsWith('arn:')) {
    // An alias ARN: arn:aws:kms:<region>:<account>:alias/<name>.
    const parts = given.split(':');
    const alias = parts[5];
    if (parts.length === 6 && parts[2] === 'kms' && isAliasName(alias)) {
      return {
        given,
        alias,
        account: isAccountId(parts[4]) ? parts[4] : account,
        region: isRegion(parts[3]) ? parts[3] : region,
      };
    }
    return unresolved;
  }
  if (isAliasName(given)) return { ...unresolved, alias: given };
  if (isAwsKeyId(given) && region !== undefined) {
    return { ref: parseKeyIdRef(given, region, account), given, account, region };
  }
  return unresolved;
}
