import { randomBytes, randomUUID } from 'node:crypto';

/** A secret held by the Secrets Manager stand-in. */
export interface StandInSecret {
  readonly name: string;
  readonly arn: string;
  readonly value: string;
  readonly versionId: string;
  /** Epoch seconds of the current version. */
  readonly createdDate: number;
}

/** An AWS JSON-protocol answer. */
export interface JsonReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Secrets of the stand-in, changeable at run time (rotation); counts reads for assertions. */
export class SecretsStore {
  readonly #secrets = new Map<string, StandInSecret>();
  readonly #reads = new Map<string, number>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** Creates the secret, or rotates it: a new value gets a new VersionId. Objects are stored as JSON. */
  put(name: string, value: string | Record<string, unknown>): StandInSecret {
    const existing = this.#secrets.get(name);
    const secret: StandInSecret = {
      name,
      arn:
        existing?.arn ??
        `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomBytes(3).toString('hex')}`,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      versionId: randomUUID(),
      createdDate: Math.floor(Date.now() / 1000),
    };
    this.#secrets.set(name, secret);
    return secret;
  }

  /** The secret by name or ARN. */
  get(nameOrArn: string): StandInSecret | undefined {
    const byName = this.#secrets.get(nameOrArn);
    if (byName) return byName;
    for (const s of this.#secrets.values()) if (s.arn === nameOrArn) return s;
    return undefined;
  }

  delete(name: string): void {
    this.#secrets.delete(name);
  }

  /** How many GetSecretValue calls succeeded for this secret (by name). */
  reads(name: string): number {
    return this.#reads.get(name) ?? 0;
  }

  clear(): void {
    this.#secrets.clear();
    this.#reads.clear();
  }

  /** Serves one JSON 1.1 call (`X-Amz-Target: secretsmanager.<Action>`). */
  handle(action: string, input: Record<string, unknown>): JsonReply {
    if (action !== 'GetSecretValue') {
      return {
        status: 400,
        body: { __type: 'UnknownOperationException', message: `Unsupported action ${action}` },
      };
    }
    const id = input.SecretId;
    if (typeof id !== 'string' || id === '') {
      return { status: 400, body: { __type: 'InvalidParameterException', message: 'SecretId is required.' } };
    }
    const secret = this.get(id);
    if (!secret) {
      return {
        status: 400,
        body: {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        },
      };
    }
    this.#reads.set(secret.name, (this.#reads.get(secret.name) ?? 0) + 1);
    return {
      status: 200,
      body: {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      },
    };
  }
}
