/** The client's interface lives with the domain that depends on it; re-exported for adapter code. */
export type { CallOptions, CancelResult, CckmApi, PageInfo } from '../domain/ports.ts';
