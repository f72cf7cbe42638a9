import { fileURLToPath } from 'node:url';

/**
 * Runs a bench command's `main` when `moduleUrl` (its `import.meta.url`) is the script node was started
 * with, so the module can also be imported for its exports: exits 0 when `main` resolves, else prints
 * `<label> failed:` and the error's stack to stderr and exits 1.
 */
export function runWhenEntry(moduleUrl: string, label: string, main: () => Promise<void>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `${label} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
