/**
 * The one error of context validation, in a module of its own so that ./context.ts (which lists every
 * key, the hub's included) and ./hub-context.ts both use it without importing each other.
 */

/** Thrown when context is missing or malformed; the message lists every problem with its key. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid CDK context (pass values with -c key=value):\n  - ${problems.join('\n  - ')}`);
  }
}
