import { expect } from 'vitest';
import { ContextError } from '../../infra/context-error.ts';

/** Runs a context parser that must refuse its input and returns the problems its ContextError lists. */
export function contextProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ContextError);
    return [...(error as ContextError).problems];
  }
  throw new Error('expected a ContextError');
}
