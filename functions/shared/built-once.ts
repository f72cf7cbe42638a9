import { type Loaded, requireConfig } from './config.ts';

/**
 * A getter of what `build` makes from a container's configuration, built at the first call rather than
 * at import (an SDK client's construction is 1-3 ms of a ~120 ms cold import, BENCHMARKS.md, and the
 * import is what a cold start waits for). A configuration error is thrown at every call, naming the
 * variable, so the function answers and logs what is wrong instead of crashing its import.
 */
export function builtOnFirstUse<C, T>(config: Loaded<C>, build: (value: C) => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build(requireConfig(config)) };
    return built.value;
  };
}
