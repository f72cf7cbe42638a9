import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of every function: structured JSON, service name fixed by the contract. */
export const logger = new Logger({ serviceName: 'cckm-deletion-guard' });
