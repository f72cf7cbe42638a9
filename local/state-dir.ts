import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (this file lives in `local/`). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Git-ignored directory for the running local stack's state (CA file, URLs); `LOCAL_STATE_DIR`
 * moves it (tests do, so they never overwrite the state of a stack a developer is running).
 */
export const LOCAL_STATE_DIR = process.env.LOCAL_STATE_DIR ?? join(PROJECT_ROOT, '.local-state');

/** Where a running simulator describes itself for `local/sim-ctl.ts`. */
export const SIMULATOR_STATE_FILE = join(LOCAL_STATE_DIR, 'simulator.json');

/** What `SIMULATOR_STATE_FILE` holds. */
export interface SimulatorStateFile {
  readonly url: string;
  readonly caFile: string;
  readonly pid: number;
}

/** Writes the CA PEM and the state file; returns the CA file path. */
export function writeSimulatorState(url: string, caPem: string): string {
  mkdirSync(LOCAL_STATE_DIR, { recursive: true });
  const caFile = join(LOCAL_STATE_DIR, 'cm-ca.pem');
  writeFileSync(caFile, caPem);
  const state: SimulatorStateFile = { url, caFile, pid: process.pid };
  mkdirSync(dirname(SIMULATOR_STATE_FILE), { recursive: true });
  writeFileSync(SIMULATOR_STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  return caFile;
}
