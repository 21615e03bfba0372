// The broker link: one MQTT connection from the portal to Mosquitto's control account, kept open
// for as long as the portal runs. It reconnects on its own with a doubling back-off, tells what
// state it is in (for /healthz and the Broker page), and lets other modules subscribe to topics
// (dynsec responses, presence) through `subscribe`, which survives reconnects.
import type { IClientOptions, MqttClient } from 'mqtt';
import { loadMqtt } from './mqtt.js';

export type LinkStatus = 'connecting' | 'connected' | 'down';

export interface LinkState {
  status: LinkStatus;
  /** When the link entered this status. */
  since: Date;
  /** The last error seen (a refused password, a closed socket), kept after a reconnect. */
  lastError: { message: string; at: Date } | undefined;
}

export interface LinkSettings {
  url: string;
  username: string;
  password: string;
  /** The CA that signed the broker's certificate, for mqtts:// (the portal's own CA by default). */
  ca?: string | undefined;
}

/** `retain`: a retained message the broker replays at subscribe time. */
export type MessageHandler = (topic: string, payload: Buffer, retain: boolean) => void;

/**
 * The largest packet the portal accepts (MQTT 5 Maximum Packet Size, sent in CONNECT): Mosquitto
 * drops a larger PUBLISH for this connection instead of sending it, so a phone's huge payload never
 * reaches the portal. Big enough for dynsec's answers (listClients of thousands of people).
 */
const MAX_PACKET_BYTES = 1024 * 1024;

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * MQTT topic filter matching: `+` one level, `#` the rest; a filter that starts with a wildcard does
 * not match a `$` topic. It runs for every message the link receives, once per subscription, so it
 * compares in place and allocates nothing (splitting both strings made a quarter of the recorder's
 * garbage at 2,000 messages a second).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const system = topic.charCodeAt(0) === 0x24; /* $ */
  let f = 0; // start of the current level in filter and in topic
  let t = 0;
  for (;;) {
    const fEnd = levelEnd(filter, f);
    const fLength = fEnd - f;
    if (fLength === 1 && filter.charCodeAt(f) === 0x23 /* # */) return !(f === 0 && system);
    if (t > topic.length) return false; // the topic has no level left
    const tEnd = levelEnd(topic, t);
    if (fLength === 1 && filter.charCodeAt(f) === 0x2b /* + */) {
      if (f === 0 && system) return false;
    } else if (fLength !== tEnd - t || !sameChars(filter, f, topic, t, fLength)) return false;
    if (fEnd === filter.length) return tEnd === topic.length;
    f = fEnd + 1;
    t = tEnd + 1;
  }
}

const levelEnd = (text: string, from: number) => {
  const slash = text.indexOf('/', from);
  return slash === -1 ? text.length : slash;
};

function sameChars(a: string, aFrom: number, b: string, bFrom: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a.charCodeAt(aFrom + i) !== b.charCodeAt(bFrom + i)) return false;
  return true;
}

export class BrokerLink {
  #client: MqttClient | undefined;
  #state: LinkState = { status: 'down', since: new Date(), lastError: undefined };
  #subscriptions = new Map<string, Set<MessageHandler>>();
  #connectListeners = new Set<() => void>();
  #stateListeners = new Set<(state: LinkState) => void>();
  #retryTimer: NodeJS.Timeout | undefined;
  #attempts = 0;
  #stopped = false;
  /** Set while MQTT.js is being loaded (the first start only). */
  #loading: Promise<void> | undefined;

  constructor(
    private readonly settings: LinkSettings,
    private readonly options: {
      now?: () => Date;
      backoffFirstMs?: number;
      backoffMaxMs?: number;
      /** The Maximum Packet Size sent in CONNECT (MAX_PACKET_BYTES); tests make it small. */
      maxPacketBytes?: number;
    } = {},
  ) {}

  get state(): LinkState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state.status === 'connected';
  }

  /** Opens the connection; returns at once (the link connects and reconnects on its own). */
  start(): void {
    this.#stopped = false;
    if (this.#client || this.#loading) return;
    this.#setState('connecting');
    this.#loading = loadMqtt().then(
      (mqtt) => {
        this.#loading = undefined;
        if (!this.#stopped && !this.#client) this.#connect(mqtt);
      },
      (error: unknown) => {
        this.#loading = undefined;
        this.#recordError(error);
        this.#setState('down');
      },
    );
  }

  #connect(mqtt: Awaited<ReturnType<typeof loadMqtt>>): void {
    const options: IClientOptions = {
      username: this.settings.username,
      password: this.settings.password,
      clientId: `owntracks-enroll-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      protocolVersion: 5,
      clean: true,
      keepalive: 30,
      properties: { maximumPacketSize: this.options.maxPacketBytes ?? MAX_PACKET_BYTES },
      connectTimeout: 10_000,
      reconnectPeriod: 0, // the back-off below decides when to try again
      // MQTT.js logs through `debug`, whose calls allocate their arguments even when off: several per
      // message, about a sixth of the portal's garbage at 2,000 messages/s. DEBUG=mqttjs* still works.
      ...(!process.env.DEBUG && { log: () => undefined }),
      ...(this.settings.ca && { ca: this.settings.ca }),
    };
    const client = mqtt.connect(this.settings.url, options);
    this.#client = client;
    client.on('connect', () => {
      this.#attempts = 0;
      // Subscriptions are made again on every connection (clean start): the broker kept none. One
      // the broker refuses (its ACL) is recorded as the last error and does not hold the others up.
      const filters = [...this.#subscriptions.keys()];
      void Promise.allSettled(filters.map((filter) => client.subscribeAsync(filter, { qos: 1 }))).then((results) => {
        for (const [i, result] of results.entries())
          if (result.status === 'rejected')
            this.#recordError(new Error(`subscribe ${filters[i]}: ${String(result.reason)}`));
        this.#setState('connected');
        for (const listener of this.#connectListeners) listener();
      });
    });
    client.on('message', (topic, payload, packet) => {
      for (const [filter, handlers] of this.#subscriptions)
        if (topicMatches(filter, topic))
          for (const handler of handlers) {
            try {
              handler(topic, payload, packet.retain);
            } catch {
              /* a handler's failure is its own; the others still get the message */
            }
          }
    });
    client.on('error', (error) => this.#recordError(error));
    client.on('close', () => {
      if (this.#stopped) return;
      if (this.#state.status !== 'down') this.#setState('down');
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#retryTimer || this.#stopped) return;
    const first = this.options.backoffFirstMs ?? BACKOFF_FIRST_MS;
    const delay = Math.min(first * 2 ** this.#attempts, this.options.backoffMaxMs ?? BACKOFF_MAX_MS);
    this.#attempts++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopped || !this.#client) return;
      this.#setState('connecting');
      this.#client.reconnect();
    }, delay);
    this.#retryTimer.unref();
  }

  #recordError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#state = { ...this.#state, lastError: { message, at: this.#now() } };
  }

  #now(): Date {
    return this.options.now?.() ?? new Date();
  }

  #setState(status: LinkStatus): void {
    this.#state = { status, since: this.#now(), lastError: this.#state.lastError };
    for (const listener of this.#stateListeners) listener(this.#state);
  }

  /** Called after each (re)connection, once the subscriptions are in place. */
  onConnect(listener: () => void): () => void {
    this.#connectListeners.add(listener);
    return () => this.#connectListeners.delete(listener);
  }

  /** Called on every change of status. */
  onState(listener: (state: LinkState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Receives the messages on `filter` (MQTT wildcards allowed) for as long as the link runs,
   * across reconnects. Returns the function that stops it. What the control account may read is
   * the broker's decision (the dynsec admin role reads everything).
   */
  subscribe(filter: string, handler: MessageHandler): () => void {
    let handlers = this.#subscriptions.get(filter);
    if (!handlers) {
      handlers = new Set();
      this.#subscriptions.set(filter, handlers);
      if (this.connected)
        this.#client?.subscribe(filter, { qos: 1 }, (error) => {
          if (error) this.#recordError(new Error(`subscribe ${filter}: ${error.message}`));
        });
    }
    handlers.add(handler);
    return () => {
      const set = this.#subscriptions.get(filter);
      if (!set) return;
      set.delete(handler);
      if (set.size === 0) {
        this.#subscriptions.delete(filter);
        if (this.connected) this.#client?.unsubscribe(filter);
      }
    };
  }

  /** Publishes on the current connection; rejects when the link is not connected. */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.#client || !this.connected) throw new Error('the broker link is not connected');
    await this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loading;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync(true);
    this.#setState('down');
  }
}
