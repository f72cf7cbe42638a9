/**
 * Deployment and run-time settings rules shared by the CDK context parser (`infra/context.ts`) and the
 * functions' environment parser (`functions/shared/config.ts`). Pure: no environment reading, no
 * imports, so both sides load it without loading the other. Each rule returns the value or a problem
 * naming the setting; each parser reports the problem its own way (zod issue, problem list).
 */

/** `remediate` acts; `detect` makes no state-changing call. */
export const MODES = ['remediate', 'detect'] as const;
export type Mode = (typeof MODES)[number];

/** When a cancelled key is enabled again. */
export const REENABLES = ['never', 'always', 'if-previously-enabled'] as const;
export type Reenable = (typeof REENABLES)[number];

export const DEFAULT_MODE: Mode = 'remediate';
export const DEFAULT_REENABLE: Reenable = 'if-previously-enabled';
/** The tag that exempts a key when none is configured, as `key=value`. */
export const DEFAULT_EXEMPT_TAG = 'deletion-guard:exempt=true';
/** Budget of one CipherTrust Manager call including retries when none is configured. */
export const DEFAULT_TIMEOUT_MS = 8000;

/** The tag (`key=value`) that exempts a key from protection. */
export interface ExemptTag {
  readonly key: string;
  readonly value: string;
}

/** The remediation policy as both sides see it once parsed. */
export interface PolicySettings {
  readonly mode: Mode;
  readonly reenable: Reenable;
  readonly allowedPrincipals: readonly string[];
  readonly exemptTag: ExemptTag;
}

/** A setting's value, or the problem with it (a sentence starting with the setting's name). */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

/** A setting's value, as a rule returns it. */
export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
/** A setting's problem, as a rule returns it. */
export const problem = <T>(text: string): Checked<T> => ({ ok: false, problem: text });

/** The trimmed value; undefined when it is blank or missing, which means "use the default". */
export function given(raw: string | undefined): string | undefined {
  return raw?.trim() || undefined;
}

/** The entries of a comma-separated list, trimmed, empty ones dropped; blank means none. */
export function listOf(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `a, b or c`, for messages that list the accepted values (two or more: MODES, REENABLES). */
function oneOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

function member<T extends string>(values: readonly T[], fallback: T) {
  return (raw: string | undefined, name: string): Checked<T> => {
    const v = given(raw);
    if (v === undefined) return ok(fallback);
    return (values as readonly string[]).includes(v)
      ? ok(v as T)
      : problem(`${name} must be ${oneOf(values)}`);
  };
}

/** The mode; blank means `remediate`. */
export const checkMode: (raw: string | undefined, name: string) => Checked<Mode> = member(
  MODES,
  DEFAULT_MODE,
);

/** When to enable a cancelled key; blank means `if-previously-enabled`. */
export const checkReenable: (raw: string | undefined, name: string) => Checked<Reenable> = member(
  REENABLES,
  DEFAULT_REENABLE,
);

/** The exempt tag as `key=value` (non-empty key); blank means the default tag. */
export function checkExemptTag(raw: string | undefined, name: string): Checked<ExemptTag> {
  const text = given(raw) ?? DEFAULT_EXEMPT_TAG;
  const eq = text.indexOf('=');
  if (eq <= 0) return problem(`${name} must be key=value, e.g. ${DEFAULT_EXEMPT_TAG}`);
  return ok({ key: text.slice(0, eq), value: text.slice(eq + 1) });
}

// IAM or STS ARNs, `*` wildcards allowed (partition and account included), or `*` alone.
const PRINCIPAL = /^arn:[a-z*-]+:(?:iam|sts)::[\d*]*:[\w+=,.@/*-]+$|^\*$/;

/**
 * The most `*` one allowed-principals entry may hold. Matching takes time linear in the ARN's length
 * times the number of `*` (functions/domain/principal-glob.ts); the bound keeps that small.
 */
export const MAX_PRINCIPAL_STARS = 16;

/** What an allowed-principals entry must be, for messages. */
export const PRINCIPAL_PATTERN_DESCRIPTION = `an IAM or STS ARN pattern with at most ${MAX_PRINCIPAL_STARS} *`;

/** Whether an allowed-principals entry is an IAM or STS ARN pattern with at most 16 `*`. */
export function isPrincipalPattern(entry: string): boolean {
  return PRINCIPAL.test(entry) && entry.split('*').length - 1 <= MAX_PRINCIPAL_STARS;
}

/**
 * CipherTrust Manager's address: an `https://` origin (no path, query or credentials), returned without
 * a trailing slash. `echo` quotes an unparseable value in the problem: the deploy side shows a typo back,
 * the function side never repeats a value that might hold credentials.
 */
export function checkHttpsOrigin(
  raw: string,
  name: string,
  options: { echo?: boolean } = {},
): Checked<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    const got = options.echo ? ` (got "${raw.slice(0, 200)}")` : '';
    return problem(`${name} must be an https:// URL such as https://cm.example.com${got}`);
  }
  if (url.protocol !== 'https:') return problem(`${name} must use https:// (plain http is refused)`);
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    // An https URL's path is never empty: `/` alone means none.
    url.pathname !== '/'
  ) {
    return problem(
      `${name} must be an origin only (https://host[:port]), without path, query or credentials`,
    );
  }
  return ok(url.origin);
}

/** `*` (every account or Region) or an explicit list (contract section 4, scope). */
export type Scope = '*' | readonly string[];

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** An AWS Region name: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4, ... */
export const REGION_NAME_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const SCOPE_KINDS = {
  accounts: { pattern: ACCOUNT_ID_PATTERN, what: '12-digit account id' },
  regions: { pattern: REGION_NAME_PATTERN, what: 'Region name' },
} as const;

/**
 * A scope: comma-separated account ids or Region names, or `*`; blank means `*`. Entries are trimmed,
 * empty ones and repeats dropped, order kept. `*` mixed with names is a problem, not a silent `*`.
 */
export function checkScope(
  raw: string | undefined,
  name: string,
  kind: keyof typeof SCOPE_KINDS,
): Checked<Scope> {
  const { pattern, what } = SCOPE_KINDS[kind];
  const entries = [...new Set(listOf(raw))];
  // Blank, or `*` alone (repeats are dropped already).
  if (entries.every((e) => e === '*')) return ok('*');
  if (entries.includes('*')) return problem(`${name} is either * or a list of ${what}s, not both`);
  const bad = entries.find((e) => !pattern.test(e));
  if (bad !== undefined) return problem(`${name} has an entry that is not a ${what}: "${bad.slice(0, 200)}"`);
  return ok(Object.freeze(entries));
}
