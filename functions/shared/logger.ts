import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from './telemetry.ts';

/** The one logger of every function: structured JSON, service name fixed by the contract. */
export const logger = new Logger({ serviceName: SERVICE_NAME });
