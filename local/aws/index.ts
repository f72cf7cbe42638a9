export type { StandInSecret } from './secrets-manager.ts';
export { SecretsStore } from './secrets-manager.ts';
export type { PublishedMessage } from './sns.ts';
export { SnsStore } from './sns.ts';
export type {
  AwsFaultSpec,
  AwsRequestLogEntry,
  AwsService,
  AwsStandIns,
  AwsStandInsOptions,
} from './stand-ins.ts';
export { startAwsStandIns } from './stand-ins.ts';
