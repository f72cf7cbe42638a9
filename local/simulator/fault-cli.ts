import type { FaultSpec } from './faults.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Parses the command-line form of a fault, e.g.
 * `POST /api/v1/cckm/aws/keys/*\/cancel-deletion status=503 times=2 retryAfter=1`.
 * Words: an optional method, an optional path glob, then `key=value` pairs (`status`, `times`
 * (-1 for unlimited), `delayMs`, `retryAfter`, `body`, `contentType`, `bodyIncludes`) and the flag `reset`.
 */
export function parseFaultArg(text: string): FaultSpec {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const spec: Record<string, unknown> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq === -1) {
      if (METHODS.has(word.toUpperCase()) && spec.method === undefined && spec.path === undefined) {
        spec.method = word.toUpperCase();
      } else if (word === 'reset') {
        spec.reset = true;
      } else if (word.startsWith('/') && spec.path === undefined) {
        spec.path = word;
      } else {
        throw new Error(`fault: cannot read "${word}"`);
      }
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    switch (key) {
      case 'status':
      case 'times':
      case 'delayMs': {
        const n = Number(value);
        if (!Number.isInteger(n)) throw new Error(`fault: ${key} must be an integer`);
        spec[key] = n;
        break;
      }
      case 'retryAfter':
        spec.retryAfter = /^\d+$/.test(value) ? Number(value) : value;
        break;
      case 'body':
      case 'contentType':
      case 'bodyIncludes':
        spec[key] = value;
        break;
      default:
        throw new Error(`fault: unknown key ${key}`);
    }
  }
  if (spec.status === undefined && spec.reset === undefined && spec.delayMs === undefined) {
    throw new Error('fault: give status=<code>, delayMs=<ms> or reset');
  }
  return spec as FaultSpec;
}
