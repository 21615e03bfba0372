// A real SMTP server in the test process (smtp-server), with every message parsed by mailparser.
// It can hold messages after the first few (their DATA is never answered until release()), so a
// test knows that the portal is in the middle of sending them.
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
  /** Messages received whose acceptance is held back (see holdAfter). */
  readonly held: Array<() => void> = [];
  /** Accept this many messages, then hold every later one until release(). */
  holdAfter = Infinity;
  #listeners = new Set<() => void>();
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<TestSmtpServer> {
    // Assigned once the server listens; the handlers below run only after that.
    // eslint-disable-next-line prefer-const
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
        const accept = async () => {
          const self = instance!;
          self.accepted++;
          callback(null); // accept first, as a real server does; parse afterwards
          const raw = Buffer.concat(chunks);
          self.messages.push({ raw, parsed: await simpleParser(raw), to });
          self.#changed();
        };
        stream.on('end', () => {
          const self = instance!;
          if (self.accepted + self.held.length < self.holdAfter) return void accept();
          self.held.push(() => void accept());
          self.#changed();
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

  #changed() {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves once `condition` holds, checked at every message; fails after `timeoutMs`. */
  until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!condition()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`${what}: not within ${timeoutMs} ms (${this.messages.length} parsed, ${this.held.length} held)`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  /** Resolves once `count` messages have arrived and been parsed. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    await this.until(() => this.messages.length >= count, `expected ${count} messages`, timeoutMs);
    return this.messages;
  }

  /** Accepts every held message. */
  release() {
    this.holdAfter = Infinity;
    for (const accept of this.held.splice(0)) accept();
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
