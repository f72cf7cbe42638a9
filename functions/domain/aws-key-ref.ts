import { ValidationError } from '../shared/errors.ts';
import { ACCOUNT_ID_PATTERN, REGION_NAME_PATTERN } from '../shared/settings.ts';

/**
 * Validated references to keys. Every id that ends up in a CipherTrust Manager URL or query passes
 * through one of these parsers first, so no path can escape `/api/v1/cckm/aws/keys/{id}/...`.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** AWS KeyId: a UUID (single-Region) or `mrk-` and 32 hex digits (multi-Region). */
const AWS_KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
const PARTITION = /^aws(?:-[a-z]+)*$/;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

/** A key as AWS names it, resolved enough to look it up in CCKM. */
export interface AwsKeyRef {
  readonly keyId: string;
  readonly region: string;
  /** Present when known (from an ARN or an event's account). */
  readonly account?: string;
  /** Present when the reference was an ARN. */
  readonly arn?: string;
}

/** A test for strings that match `pattern`: nothing else (a number, an object) ever does. */
function stringMatching(pattern: RegExp): (value: unknown) => value is string {
  return (value): value is string => typeof value === 'string' && pattern.test(value);
}

/** True for a CCKM id (a UUID). */
export const isCckmId = stringMatching(UUID);

/** Returns the CCKM id unchanged, or throws a ValidationError naming the problem. */
export function parseCckmId(value: unknown, what = 'id'): string {
  if (!isCckmId(value)) {
    throw new ValidationError(`${what} must be a CCKM key id (a UUID)`);
  }
  return value.toLowerCase();
}

/** True for an AWS KeyId (UUID or `mrk-…`). */
export const isAwsKeyId = stringMatching(AWS_KEY_ID);

/** True for an AWS Region name such as `us-west-2`. */
export const isRegion = stringMatching(REGION_NAME_PATTERN);

/** True for a 12-digit AWS account id. */
export const isAccountId = stringMatching(ACCOUNT_ID_PATTERN);

/** True for a KMS alias name such as `alias/payments`. */
export function isAliasName(value: unknown): value is string {
  return typeof value === 'string' && ALIAS.test(value) && !value.startsWith('alias/aws/');
}

/** A KMS key ARN's reference: what a valid ARN always names (its account among them). */
export type KeyArnRef = AwsKeyRef & { readonly arn: string; readonly account: string };

/**
 * Reads `arn:<partition>:kms:<region>:<account>:key/<keyId>`; undefined for anything else. No throw:
 * an event or a listed record that names no key ARN is an ordinary case, not an error.
 */
export function keyArnRef(value: unknown): KeyArnRef | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  const parts = value.split(':');
  const [arnLiteral, partition, service, region, account, resource] = parts;
  const keyId = resource?.startsWith('key/') ? resource.slice(4) : undefined;
  if (
    parts.length !== 6 ||
    arnLiteral !== 'arn' ||
    !PARTITION.test(partition ?? '') ||
    service !== 'kms' ||
    !isRegion(region) ||
    !isAccountId(account) ||
    !isAwsKeyId(keyId)
  ) {
    return undefined;
  }
  return { arn: value, region, account, keyId };
}

/** Parses a KMS key ARN (`keyArnRef`), or throws a ValidationError naming the field. */
export function parseKeyArn(value: unknown, what = 'arn'): KeyArnRef {
  const ref = keyArnRef(value);
  if (!ref) {
    throw new ValidationError(`${what} must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)`);
  }
  return ref;
}

/** Builds a reference from a KeyId and Region, or throws a ValidationError naming the bad field. */
export function parseKeyIdRef(keyId: unknown, region: unknown, account?: unknown): AwsKeyRef {
  if (!isAwsKeyId(keyId)) {
    throw new ValidationError('keyId must be an AWS KMS key id (a UUID or mrk- followed by 32 hex digits)');
  }
  if (!isRegion(region)) {
    throw new ValidationError('region must be an AWS Region name such as us-east-1');
  }
  if (account !== undefined && !isAccountId(account)) {
    throw new ValidationError('account must be a 12-digit AWS account id');
  }
  return account === undefined ? { keyId, region } : { keyId, region, account };
}
