// A real SMTP server in the test process (smtp-server), with every message parsed by mailparser.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: Buffer;
  parsed: ParsedMail;
  to: string[];
}

export class TestSmtpServer {
  readonly messages: ReceivedMail[] = [];
  /** Messages accepted so far, counted before they are parsed into `messages`. */
  accepted = 0;
  #waiters: Array<() => void> = [];
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<TestSmtpServer> {
    let instance: TestSmtpServer | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true, // no DNS on this network: a reverse lookup would only add delay
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        const to = session.envelope.rcptTo.map((r) => r.address); // before the session moves on
        stream.on('end', async () => {
          instance!.accepted++;
          callback(null); // accept first, as a real server does; parse afterwards
          const raw = Buffer.concat(chunks);
          instance!.messages.push({ raw, parsed: await simpleParser(raw), to });
          instance!.#waiters.splice(0).forEach((wake) => wake());
        });
      },
    });
    server.on('error', () => {}); // a client that vanishes mid-session (a killed portal) is expected here
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as { port: number }).port;
    instance = new TestSmtpServer(server, port);
    return instance;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once `count` messages have arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${this.messages.length}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.messages;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
