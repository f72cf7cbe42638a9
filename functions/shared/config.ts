import { z } from 'zod';
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
 * The only reader of `process.env`. Each schema is parsed once, at module load, into a frozen typed
 * object; a bad variable does not crash the module: `requireConfig` throws a ConfigError naming it
 * at the first invocation, so the API answers 500 and the log says what is wrong.
 */

const bool = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return false;
      const lower = v.trim().toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false` });
      return z.NEVER;
    });

/** Reports a shared settings rule's problem as a zod issue. */
function issue<T>(checked: Checked<T>, ctx: z.RefinementCtx): T {
  if (checked.ok) return checked.value;
  ctx.addIssue({ code: 'custom', message: checked.problem });
  return z.NEVER;
}

const cckmUrl = z
  .string({ error: 'CCKM_URL is required' })
  .transform((v, ctx) => issue(checkHttpsOrigin(v, 'CCKM_URL'), ctx));

export const connectionSchema = z.object({
  CCKM_URL: cckmUrl,
  CCKM_SECRET_ID: z
    .string({ error: 'CCKM_SECRET_ID is required' })
    .trim()
    .min(1, 'CCKM_SECRET_ID is required')
    .max(2048, 'CCKM_SECRET_ID is too long'),
  CCKM_TLS_INSECURE: bool('CCKM_TLS_INSECURE'),
  CCKM_TIMEOUT_MS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return DEFAULT_TIMEOUT_MS;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 100 || n > 900_000) {
        ctx.addIssue({
          code: 'custom',
          message: 'CCKM_TIMEOUT_MS must be a whole number of milliseconds, 100 to 900000',
        });
        return z.NEVER;
      }
      return n;
    }),
});

export interface ConnectionConfig {
  /** CipherTrust Manager origin, e.g. `https://cm.example.com` (no trailing slash). */
  readonly cckmUrl: string;
  readonly secretId: string;
  readonly tlsInsecure: boolean;
  readonly timeoutMs: number;
}

export const policySchema = z.object({
  // An empty value means the default, as it already does for the other policy variables: a deployment
  // that forwards an unset setting as '' must not stop the function.
  MODE: z
    .string()
    .optional()
    .transform((v, ctx) => issue(checkMode(v, 'MODE'), ctx)),
  REENABLE: z
    .string()
    .optional()
    .transform((v, ctx) => issue(checkReenable(v, 'REENABLE'), ctx)),
  ALLOWED_PRINCIPALS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const list = (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      for (const p of list) {
        if (!isPrincipalPattern(p)) {
          ctx.addIssue({
            code: 'custom',
            message: `ALLOWED_PRINCIPALS has an entry that is not ${PRINCIPAL_PATTERN_DESCRIPTION}: ${p.slice(0, 200)}`,
          });
          return z.NEVER;
        }
      }
      return list;
    }),
  EXEMPT_TAG: z
    .string()
    .optional()
    .transform((v, ctx) => issue(checkExemptTag(v, 'EXEMPT_TAG'), ctx)),
  NOTIFY_TOPIC_ARN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: 'NOTIFY_TOPIC_ARN must be an SNS topic ARN' });
        return z.NEVER;
      }
      return v.trim();
    }),
});

export interface PolicyConfig extends PolicySettings {
  readonly notifyTopicArn: string | undefined;
}

export const scopeSchema = z.object({
  SCOPE_ACCOUNTS: z
    .string()
    .optional()
    .transform((v, ctx) => issue(checkScope(v, 'SCOPE_ACCOUNTS', 'accounts'), ctx)),
  SCOPE_REGIONS: z
    .string()
    .optional()
    .transform((v, ctx) => issue(checkScope(v, 'SCOPE_REGIONS', 'regions'), ctx)),
  SWEEP_SYNC: bool('SWEEP_SYNC'),
});

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

type Env = Readonly<Record<string, string | undefined>>;

function fail(error: z.ZodError): never {
  const messages = error.issues.map((i) => {
    const variable = String(i.path[0] ?? '');
    // Zod's own messages for a missing variable do not name it; ours always do.
    return i.message.includes(variable) ? i.message : `${variable}: ${i.message}`;
  });
  throw new ConfigError(`Invalid configuration: ${messages.join('; ')}`);
}

/** Parses the CipherTrust Manager connection variables; throws ConfigError naming each bad one. */
export function parseConnectionConfig(env: Env): ConnectionConfig {
  const r = connectionSchema.safeParse(env);
  if (!r.success) fail(r.error);
  return Object.freeze({
    cckmUrl: r.data.CCKM_URL,
    secretId: r.data.CCKM_SECRET_ID,
    tlsInsecure: r.data.CCKM_TLS_INSECURE,
    timeoutMs: r.data.CCKM_TIMEOUT_MS,
  });
}

/** Parses the remediation policy variables; throws ConfigError naming each bad one. */
export function parsePolicyConfig(env: Env): PolicyConfig {
  const r = policySchema.safeParse(env);
  if (!r.success) fail(r.error);
  return Object.freeze({
    mode: r.data.MODE,
    reenable: r.data.REENABLE,
    allowedPrincipals: Object.freeze([...r.data.ALLOWED_PRINCIPALS]),
    exemptTag: Object.freeze(r.data.EXEMPT_TAG),
    notifyTopicArn: r.data.NOTIFY_TOPIC_ARN,
  });
}

/** Parses SCOPE_ACCOUNTS, SCOPE_REGIONS and SWEEP_SYNC; throws ConfigError naming each bad one. */
export function parseReachConfig(env: Env): ReachConfig {
  const r = scopeSchema.safeParse(env);
  if (!r.success) fail(r.error);
  return Object.freeze({
    scope: Object.freeze({ accounts: r.data.SCOPE_ACCOUNTS, regions: r.data.SCOPE_REGIONS }),
    sweepSync: r.data.SWEEP_SYNC,
  });
}

export const ledgerSchema = z.object({
  LEDGER_TABLE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      // DynamoDB's own rule for a table name.
      if (!/^[A-Za-z0-9_.-]{3,255}$/.test(v.trim())) {
        ctx.addIssue({
          code: 'custom',
          message: 'LEDGER_TABLE must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . -',
        });
        return z.NEVER;
      }
      return v.trim();
    }),
});

export interface LedgerConfig {
  /** The ledger table (contract section 7); undefined: no memory between events. */
  readonly tableName: string | undefined;
}

/** Parses `LEDGER_TABLE`; throws ConfigError naming it when it is no table name. */
export function parseLedgerConfig(env: Env): LedgerConfig {
  const r = ledgerSchema.safeParse(env);
  if (!r.success) fail(r.error);
  return Object.freeze({ tableName: r.data.LEDGER_TABLE });
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
