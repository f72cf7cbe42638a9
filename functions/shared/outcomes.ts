/**
 * The outcome names of contract section 4, one per key. A pure list in `shared/` because both the domain
 * (which decides them) and the stack (whose dashboard plots one metric per outcome) read it; the domain
 * re-exports it with the rest of its outcome model.
 */
export const OUTCOMES = [
  'cancelled',
  'cancelled-and-enabled',
  'not-pending',
  'allowed',
  'exempt',
  'detected',
  'not-managed',
  'out-of-scope',
  'denied-attempt',
  'failed',
] as const;

export type Outcome = (typeof OUTCOMES)[number];
