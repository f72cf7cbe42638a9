import { randomUUID } from 'node:crypto';

/** A message published to the SNS stand-in. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageAttributes: Readonly<Record<string, { DataType: string; StringValue?: string }>>;
  readonly at: string;
}

/** An AWS query-protocol answer (XML). */
export interface XmlReply {
  readonly status: number;
  readonly body: string;
}

const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An SNS query-protocol error body. */
export function snsError(
  status: number,
  code: string,
  message: string,
  type = status >= 500 ? 'Receiver' : 'Sender',
): XmlReply {
  return {
    status,
    body: `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** Topics and published messages of the SNS stand-in. */
export class SnsStore {
  readonly #topics = new Set<string>();
  #messages: PublishedMessage[] = [];

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** Creates a topic and returns its ARN. */
  createTopic(name: string): string {
    const arn = `arn:aws:sns:${this.region}:${this.account}:${name}`;
    this.#topics.add(arn);
    return arn;
  }

  /** Messages published so far, oldest first (a copy). */
  get messages(): readonly PublishedMessage[] {
    return [...this.#messages];
  }

  /** Forgets published messages (topics stay). */
  clearMessages(): void {
    this.#messages = [];
  }

  clear(): void {
    this.#topics.clear();
    this.#messages = [];
  }

  /** Serves one query-protocol call (form body with `Action=Publish&Version=2010-03-31&...`). */
  handle(params: URLSearchParams): XmlReply {
    const action = params.get('Action');
    if (action !== 'Publish')
      return snsError(400, 'InvalidAction', `The action ${action ?? ''} is not valid for this endpoint.`);
    const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
    if (!topicArn)
      return snsError(
        400,
        'InvalidParameter',
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
      );
    const message = params.get('Message');
    if (message === null || message === '')
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Message');
    if (Buffer.byteLength(message) > 262_144)
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    const subject = params.get('Subject') ?? undefined;
    // Real SNS: ASCII, no line breaks or control characters, under 100 characters.
    if (
      subject !== undefined &&
      (subject.length === 0 || subject.length >= 100 || !/^[\x20-\x7e]+$/.test(subject))
    ) {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Subject');
    }
    if (!this.#topics.has(topicArn)) return snsError(404, 'NotFound', 'Topic does not exist');
    const attributes: Record<string, { DataType: string; StringValue?: string }> = {};
    for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
      const name = params.get(`MessageAttributes.entry.${i}.Name`)!;
      const dataType = params.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? 'String';
      const stringValue = params.get(`MessageAttributes.entry.${i}.Value.StringValue`);
      attributes[name] =
        stringValue === null ? { DataType: dataType } : { DataType: dataType, StringValue: stringValue };
    }
    const messageId = randomUUID();
    this.#messages.push({
      messageId,
      topicArn,
      ...(subject === undefined ? {} : { subject }),
      message,
      messageAttributes: attributes,
      at: new Date().toISOString(),
    });
    return {
      status: 200,
      body: `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }
}
