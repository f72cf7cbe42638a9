export type { FaultRuleState, FaultSpec } from './faults.ts';
export { defaultErrorBody, Faults } from './faults.ts';
export type { Seed, SeedUser } from './seed.ts';
export { ACCOUNTS, defaultSeed, generatePendingKeys, MRK_KEY_ID, SEED_KEYS } from './seed.ts';
export type {
  SimCounters,
  SimRequestLogEntry,
  SimUsers,
  Simulator,
  SimulatorCredentials,
  SimulatorOptions,
} from './server.ts';
export { startSimulator } from './server.ts';
export type { AwsKeyTruth, KeyState, SeedKey, SimKeyRecord } from './store.ts';
export { KeyStore, keyArn, stableUuid } from './store.ts';
export type { CertAndKey, SimulatorTls } from './tls.ts';
export { generateCa, generateSimulatorTls } from './tls.ts';
