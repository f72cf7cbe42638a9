export type {
  EchoFormat,
  EchoWhat,
  FaultMatch,
  FaultRuleState,
  FaultSpec,
  Tamper,
} from './faults.ts';
export { CANCEL_PATH, defaultErrorBody, Faults } from './faults.ts';
export type { Seed, SeedUser } from './seed.ts';
export { ACCOUNTS, defaultSeed, generatePendingKeys, MRK_KEY_ID, SEED_KEYS } from './seed.ts';
export { startSimulator } from './server.ts';
export type { AwsKeyTruth, KeyState, SeedKey, SimKeyPeek, SimKeyRecord } from './store.ts';
export { KeyStore, keyArn, stableUuid } from './store.ts';
export type { CertAndKey, SimulatorTls } from './tls.ts';
export { generateCa, generateSimulatorTls } from './tls.ts';
export type {
  PasswordGrantFields,
  SimCounters,
  SimRequestLogEntry,
  SimSyncJob,
  SimSyncJobs,
  SimUsers,
  Simulator,
  SimulatorCredentials,
  SimulatorOptions,
  SyncJobStatus,
} from './types.ts';
