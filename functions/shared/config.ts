import { ConfigError } from './errors.ts';
import type { Checked, PolicySettings, Scope } from './settings.ts';
import {
  checkExemptTag,
  checkHttpsOrigin,
  checkMode,
  checkReenable,
  checkScope,
  DEFAULT_TIMEOUT_MS,
  isPrincipalPattern,
  PRINCIPAL_PATTERN_DESCRIPTION,
} from './settings.ts';
import { DEFAULT_METRICS_NAMESPACE } from './telemetry.ts';

/**
 * The only reader of `process.env`. Each group of variables is parsed once, at module load, by a table
 * of rules (one per variable) into a frozen typed object; a bad variable does not crash the module:
 * `requireConfig` throws a ConfigError naming it at the first invocation, so the API answers 500 and
 * the log says what is wrong. The rules are plain functions rather than a zod schema: building and
 * running the schemas cost ~14 ms of every cold start (BENCHMARKS.md), for eight strings.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** One variable's rule: its value from the raw string, or a problem naming the variable. */
type Rule<T> = (raw: string | undefined, name: string) => Checked<T>;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const problem = <T>(text: string): Checked<T> => ({ ok: false, problem: text });

/** The values a table of rules yields, by variable name. */
type ValuesOf<R> = { [K in keyof R]: R[K] extends Rule<infer T> ? T : never };

/**
 * Applies every rule to its variable and returns the values, or throws one ConfigError naming every
 * bad variable (never its value), in the order of the rules.
 */
function parseWith<R extends Record<string, Rule<unknown>>>(env: Env, rules: R): ValuesOf<R> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const checked = rule(env[name], name);
    if (checked.ok) values[name] = checked.value;
    // Every rule's problem names its variable; the prefix is a guard for one that would not.
    else problems.push(checked.problem.includes(name) ? checked.problem : `${name}: ${checked.problem}`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return values as ValuesOf<R>;
}

/** `true` / `false` in any case, around blanks; missing or empty means false. */
const bool: Rule<boolean> = (raw, name) => {
  if (raw === undefined || raw === '') return ok(false);
  const lower = raw.trim().toLowerCase();
  if (lower === 'true') return ok(true);
  if (lower === 'false') return ok(false);
  return problem(`${name} must be true or false`);
};

const connectionRules = {
  CCKM_URL: (raw: string | undefined, name: string): Checked<string> =>
    raw === undefined ? problem(`${name} is required`) : checkHttpsOrigin(raw, name),
  CCKM_SECRET_ID: (raw: string | undefined, name: string): Checked<string> => {
    const v = raw?.trim();
    if (v === undefined || v.length < 1) return problem(`${name} is required`);
    return v.length > 2048 ? problem(`${name} is too long`) : ok(v);
  },
  CCKM_TLS_INSECURE: bool,
  CCKM_TIMEOUT_MS: (raw: string | undefined, name: string): Checked<number> => {
    if (raw === undefined || raw.trim() === '') return ok(DEFAULT_TIMEOUT_MS);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 100 || n > 900_000) {
      return problem(`${name} must be a whole number of milliseconds, 100 to 900000`);
    }
    return ok(n);
  },
};

export interface ConnectionConfig {
  /** CipherTrust Manager origin, e.g. `https://cm.example.com` (no trailing slash). */
  readonly cckmUrl: string;
  readonly secretId: string;
  readonly tlsInsecure: boolean;
  readonly timeoutMs: number;
}

const policyRules = {
  // An empty value means the default, as it already does for the other policy variables: a deployment
  // that forwards an unset setting as '' must not stop the function.
  MODE: checkMode,
  REENABLE: checkReenable,
  ALLOWED_PRINCIPALS: (raw: string | undefined, name: string): Checked<string[]> => {
    const list = (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const bad = list.find((p) => !isPrincipalPattern(p));
    return bad === undefined
      ? ok(list)
      : problem(`${name} has an entry that is not ${PRINCIPAL_PATTERN_DESCRIPTION}: ${bad.slice(0, 200)}`);
  },
  EXEMPT_TAG: checkExemptTag,
  NOTIFY_TOPIC_ARN: (raw: string | undefined, name: string): Checked<string | undefined> => {
    if (raw === undefined || raw.trim() === '') return ok(undefined);
    const v = raw.trim();
    return /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(v)
      ? ok(v)
      : problem(`${name} must be an SNS topic ARN`);
  },
};

export interface PolicyConfig extends PolicySettings {
  readonly notifyTopicArn: string | undefined;
}

const reachRules = {
  SCOPE_ACCOUNTS: (raw: string | undefined, name: string) => checkScope(raw, name, 'accounts'),
  SCOPE_REGIONS: (raw: string | undefined, name: string) => checkScope(raw, name, 'regions'),
  SWEEP_SYNC: bool,
};

/** The accounts and Regions this deployment protects (contract section 4, scope). */
export interface ScopeConfig {
  readonly accounts: Scope;
  readonly regions: Scope;
}

/** Scope, plus whether a sweep ends by starting a CCKM synchronization job. */
export interface ReachConfig {
  readonly scope: ScopeConfig;
  readonly sweepSync: boolean;
}

/** Parses the CipherTrust Manager connection variables; throws ConfigError naming each bad one. */
export function parseConnectionConfig(env: Env): ConnectionConfig {
  const v = parseWith(env, connectionRules);
  return Object.freeze({
    cckmUrl: v.CCKM_URL,
    secretId: v.CCKM_SECRET_ID,
    tlsInsecure: v.CCKM_TLS_INSECURE,
    timeoutMs: v.CCKM_TIMEOUT_MS,
  });
}

/** Parses the remediation policy variables; throws ConfigError naming each bad one. */
export function parsePolicyConfig(env: Env): PolicyConfig {
  const v = parseWith(env, policyRules);
  return Object.freeze({
    mode: v.MODE,
    reenable: v.REENABLE,
    allowedPrincipals: Object.freeze([...v.ALLOWED_PRINCIPALS]),
    exemptTag: Object.freeze(v.EXEMPT_TAG),
    notifyTopicArn: v.NOTIFY_TOPIC_ARN,
  });
}

/** Parses SCOPE_ACCOUNTS, SCOPE_REGIONS and SWEEP_SYNC; throws ConfigError naming each bad one. */
export function parseReachConfig(env: Env): ReachConfig {
  const v = parseWith(env, reachRules);
  return Object.freeze({
    scope: Object.freeze({ accounts: v.SCOPE_ACCOUNTS, regions: v.SCOPE_REGIONS }),
    sweepSync: v.SWEEP_SYNC,
  });
}

const ledgerRules = {
  LEDGER_TABLE: (raw: string | undefined, name: string): Checked<string | undefined> => {
    if (raw === undefined || raw.trim() === '') return ok(undefined);
    const v = raw.trim();
    // DynamoDB's own rule for a table name.
    return /^[A-Za-z0-9_.-]{3,255}$/.test(v)
      ? ok(v)
      : problem(`${name} must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . -`);
  },
};

export interface LedgerConfig {
  /** The ledger table (contract section 7); undefined: no memory between events. */
  readonly tableName: string | undefined;
}

/** Parses `LEDGER_TABLE`; throws ConfigError naming it when it is no table name. */
export function parseLedgerConfig(env: Env): LedgerConfig {
  return Object.freeze({ tableName: parseWith(env, ledgerRules).LEDGER_TABLE });
}

/** The outcome of parsing once at load: the value, or the error to throw at every invocation. */
export type Loaded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ConfigError };

function load<T>(parse: (env: Env) => T): Loaded<T> {
  try {
    return { ok: true, value: parse(process.env) };
  } catch (error) {
    return { ok: false, error: error instanceof ConfigError ? error : new ConfigError(String(error)) };
  }
}

/** Returns the loaded value or throws its ConfigError. */
export function requireConfig<T>(loaded: Loaded<T>): T {
  if (!loaded.ok) throw loaded.error;
  return loaded.value;
}

/** Connection configuration of this container, parsed at module load. */
export const connection: Loaded<ConnectionConfig> = load(parseConnectionConfig);
/** Remediation policy of this container, parsed at module load. */
export const policy: Loaded<PolicyConfig> = load(parsePolicyConfig);
/** Ledger configuration of this container, parsed at module load. */
export const ledgerConfig: Loaded<LedgerConfig> = load(parseLedgerConfig);

/** Scope and SWEEP_SYNC of this container, parsed at module load (both functions read the scope). */
export const reach: Loaded<ReachConfig> = load(parseReachConfig);

/**
 * CloudWatch namespace of the guard's metrics: `POWERTOOLS_METRICS_NAMESPACE`, else `CckmDeletionGuard`
 * (the dashboard reads this namespace). Passed explicitly because an explicit namespace wins over the
 * variable inside Powertools.
 */
export const metricsNamespace: string = (() => {
  const v = process.env.POWERTOOLS_METRICS_NAMESPACE?.trim();
  return v && v.length <= 255 ? v : DEFAULT_METRICS_NAMESPACE;
})();

const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSY = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

/** A Powertools-style boolean variable: its extended true/false spellings, else undefined. */
function powertoolsFlag(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (TRUTHY.has(v)) return true;
  if (FALSY.has(v)) return false;
  return undefined;
}

/**
 * Whether the functions write metrics, as Powertools decides it: `POWERTOOLS_METRICS_DISABLED` when set,
 * else off in `POWERTOOLS_DEV`. An unreadable value leaves metrics on, where Powertools would throw at
 * import: a typo must neither stop the function nor silence the data its alarms read.
 */
export function metricsEnabledIn(env: Env): boolean {
  return !(powertoolsFlag(env.POWERTOOLS_METRICS_DISABLED) ?? powertoolsFlag(env.POWERTOOLS_DEV) ?? false);
}

/** Whether this container writes metrics, decided once at load. */
export const metricsEnabled: boolean = metricsEnabledIn(process.env);
