// Who is connected: the recorder listens to the OwnTracks topics through the portal's own broker
// account and keeps, per person and device that holds a certificate, only the time of the last
// message and of the app's last will ("lwt"). It reads a payload only to tell a last will from any
// other message (`_type` alone, small payloads only); it never keeps one, and a topic that names no
// certificate's device is dropped without a trace. Writes are throttled: at most one per device per
// minute, the times in between held in memory (and shown from there), everything flushed on stop.
// Which topics name a certificate's device is answered from memory (KnownDevices): the pairs are
// read once at start, then only the certificates added since (at each sweep, and when a topic is not
// known), so a burst of devices seen for the first time costs no database query per topic.
//
// It takes its messages from a MessageSource: the broker link's one MQTT connection in production
// (linkMessageSource), an MQTT.js client (mqttMessageSource) or anything else in tests.
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import type { CertifiedDevice, PresenceKey, PresenceWrite } from '../db/presence.js';
import { topicMatches } from './link.js';

/** The apps publish locations (and their broker publishes their last will) on owntracks/<user>/<device>. */
export const PRESENCE_TOPIC = 'owntracks/+/+';
/** At most one write per device per this long. */
export const WRITE_EVERY_MS = 60_000;
/** How often held times are looked at for writing: a device first seen is stored within this. */
export const SWEEP_EVERY_MS = 5_000;
/**
 * Devices written per transaction: a thousand devices first seen at once are written in steps, the
 * event loop free between them, rather than in one long transaction.
 */
export const WRITES_PER_STEP = 100;
/** Larger payloads are not parsed (a last will is ~40 bytes); they still count as a message. */
export const MAX_PARSED_BYTES = 4096;
/** Topic levels longer than this name no certificate's user or device: dropped before any lookup. */
const MAX_LEVEL_LENGTH = 64;
/** Topics resolved (known or not) are remembered this many at most, and until a certificate is added. */
const TOPIC_CACHE_LIMIT = 10_000;
/** Certificates read per query when the known devices are loaded. */
const KNOWN_DEVICES_PAGE = 5_000;

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** Set on a retained message the broker replays at subscribe time: old news, not a sign of life. */
  retain: boolean;
}

/** The least the recorder needs from a broker connection. */
export interface MessageSource {
  subscribe(filter: string, onMessage: (message: IncomingMessage) => void): void;
  unsubscribe(filter: string): void;
}

// The rows' shapes are the repository's (db/presence.ts): one definition for both sides.
export type { CertifiedDevice, PresenceKey, PresenceWrite } from '../db/presence.js';

/** Where the recorder learns the certified devices and writes their times (db/presence.ts in the portal). */
export interface PresenceStore {
  /** Certificates with an id above `afterId`, in id order, at most `limit` (revoked and expired ones too). */
  devicesAfter(afterId: number, limit: number): CertifiedDevice[];
  write(rows: PresenceWrite[]): void;
}

/**
 * The (person, device) pairs certificates name, in memory: which row a topic's user and device
 * belong to. A device a certificate names wins; otherwise the person's certificate without a device
 * name, whatever deviceId that app chose. Certificates are never deleted, so it only grows: `refresh`
 * reads the certificates added since the last call.
 */
class KnownDevices {
  private readonly people = new Map<
    string,
    { userId: number; devices: Map<string, PresenceKey>; anyDevice?: PresenceKey }
  >();
  private lastId = 0;

  constructor(private readonly store: Pick<PresenceStore, 'devicesAfter'>) {}

  /** Reads the certificates added since the last call; returns how many there were. */
  refresh(): number {
    let added = 0;
    for (;;) {
      const page = this.store.devicesAfter(this.lastId, KNOWN_DEVICES_PAGE);
      for (const { certificateId, userId, username, device } of page) {
        let person = this.people.get(username);
        if (!person) this.people.set(username, (person = { userId, devices: new Map() }));
        if (device === null) person.anyDevice ??= { userId, device: '' };
        else if (!person.devices.has(device)) person.devices.set(device, { userId, device });
        this.lastId = Math.max(this.lastId, certificateId);
      }
      added += page.length;
      if (page.length < KNOWN_DEVICES_PAGE) return added;
    }
  }

  resolve(username: string, device: string): PresenceKey | undefined {
    const person = this.people.get(username);
    return person && (person.devices.get(device) ?? person.anyDevice);
  }
}

interface Held {
  /** Its key in the recorder's map: user id and device. */
  id: string;
  key: PresenceKey;
  /** The recorder's clock (ms) at this device's last write; undefined: not written since start. */
  writtenAt: number | undefined;
  lastMessageAt: string | null;
  lastWillAt: string | null;
  dirty: boolean;
}

const lastWill = z.object({ _type: z.literal('lwt') });

/** Whether a payload is the app's last will. Anything else, malformed or huge included, is "a message". */
export function isLastWill(payload: Buffer): boolean {
  if (payload.length > MAX_PARSED_BYTES || payload[0] !== 0x7b /* { */ || !payload.includes('lwt')) return false;
  try {
    return lastWill.safeParse(JSON.parse(payload.toString('utf8'))).success;
  } catch {
    return false;
  }
}

/** owntracks/<user>/<device> → its two levels, or undefined for anything else. */
function topicLevels(topic: string): { username: string; device: string } | undefined {
  const levels = topic.split('/');
  if (levels.length !== 3 || levels[0] !== 'owntracks') return undefined;
  const [, username, device] = levels as [string, string, string];
  if (!username || !device || username.length > MAX_LEVEL_LENGTH || device.length > MAX_LEVEL_LENGTH) return undefined;
  return { username, device };
}

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

export class PresenceRecorder {
  private readonly held = new Map<string, Held>();
  /** Devices found due by the sweep's last look at every held device, still to be written. */
  private due: Held[] = [];
  /** topic → its key, or null when it names no certificate's device. Bounded; cleared when a certificate is added. */
  private readonly topics = new Map<string, PresenceKey | null>();
  private readonly known: KnownDevices;
  /**
   * Set when a topic not known from memory made the recorder look for certificates added since
   * (say, issued a moment ago); cleared by a microtask, so a batch of unknown topics costs one query.
   */
  private lookedForNew = false;
  private timer: NodeJS.Timeout | undefined;
  private source: MessageSource | undefined;
  private readonly now: () => Date;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: PresenceStore,
    options: { now?: () => Date; onError?: (error: unknown) => void } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? (() => undefined);
    this.known = new KnownDevices(store);
  }

  /** Subscribes to the OwnTracks topics and starts the periodic write. */
  start(source: MessageSource) {
    this.stopTimer();
    this.refreshKnown(); // all certificates once, before the first message rather than per topic after
    this.source = source;
    source.subscribe(PRESENCE_TOPIC, (message) => this.receive(message));
    const step = () => {
      if (this.sweep() && this.timer) setImmediate(step);
    };
    this.timer = setInterval(step, SWEEP_EVERY_MS).unref();
  }

  /** Unsubscribes and writes everything still held, throttle or not. */
  stop() {
    this.stopTimer();
    this.source?.unsubscribe(PRESENCE_TOPIC);
    this.source = undefined;
    this.flush();
  }

  private stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One message from the broker. Never throws: a hostile payload must not stop the others. */
  receive(message: IncomingMessage) {
    if (message.retain) return;
    const levels = topicLevels(message.topic);
    if (!levels) return;
    const key = this.lookup(message.topic, levels.username, levels.device);
    if (!key) return;
    const at = this.now().toISOString();
    const id = `${key.userId}\u0000${key.device}`;
    let entry = this.held.get(id);
    if (!entry) {
      entry = { id, key, writtenAt: undefined, lastMessageAt: null, lastWillAt: null, dirty: false };
      this.held.set(id, entry);
    }
    if (isLastWill(message.payload)) entry.lastWillAt = later(entry.lastWillAt, at);
    else entry.lastMessageAt = later(entry.lastMessageAt, at);
    entry.dirty = true;
  }

  private lookup(topic: string, username: string, device: string): PresenceKey | undefined {
    const cached = this.topics.get(topic);
    if (cached !== undefined) return cached ?? undefined;
    let key = this.known.resolve(username, device);
    if (!key && !this.lookedForNew) {
      this.lookedForNew = true;
      queueMicrotask(() => (this.lookedForNew = false));
      this.refreshKnown();
      key = this.known.resolve(username, device);
    }
    if (this.topics.size >= TOPIC_CACHE_LIMIT) this.topics.clear();
    this.topics.set(topic, key ?? null);
    return key;
  }

  /** Reads the certificates added since the last time; a topic found unknown before is looked at again. */
  private refreshKnown() {
    try {
      if (this.known.refresh() > 0) this.topics.clear();
    } catch (error) {
      this.onError(error); // tried again at the next unknown topic or sweep
    }
  }

  /**
   * Writes, in one transaction, up to WRITES_PER_STEP devices with held times whose last write is
   * at least WRITE_EVERY_MS old (or that were not written since start). Called every SWEEP_EVERY_MS,
   * and again at once while it returns true (more are due). Only a call with nothing left to write
   * looks at every held device (and drops those with nothing held and no throttle left), so a
   * thousand devices first seen at once cost one look and ten writes, not ten looks. It also
   * notices a certificate issued since a topic was looked up (one query for the certificates added
   * since the last look).
   */
  sweep(): boolean {
    const now = this.now().getTime();
    const free = (entry: Held) => entry.writtenAt === undefined || now - entry.writtenAt >= WRITE_EVERY_MS;
    if (this.due.length === 0) {
      this.refreshKnown();
      for (const entry of this.held.values()) {
        if (!free(entry)) continue;
        if (entry.dirty) this.due.push(entry);
        else this.held.delete(entry.id); // nothing held, no throttle left to keep
      }
    }
    // Written meanwhile by a flush (on stop): nothing to write, or not yet.
    const step = this.due.splice(0, WRITES_PER_STEP).filter((entry) => entry.dirty && free(entry));
    if (this.write(step, now)) return this.due.length > 0;
    this.due = []; // kept dirty: the next look finds them again
    return false;
  }

  /** Writes everything held now, throttle or not (on stop); what the sweep had queued is written with it. */
  flush() {
    this.due = [];
    this.write(
      [...this.held.values()].filter((entry) => entry.dirty),
      this.now().getTime(),
    );
  }

  /** Returns whether the write succeeded (or there was nothing to write). */
  private write(entries: Held[], now: number): boolean {
    if (entries.length === 0) return true;
    try {
      this.store.write(
        entries.map((entry) => ({ ...entry.key, lastMessageAt: entry.lastMessageAt, lastWillAt: entry.lastWillAt })),
      );
    } catch (error) {
      this.onError(error); // kept dirty: tried again at the next sweep
      return false;
    }
    for (const entry of entries) {
      entry.dirty = false;
      entry.writtenAt = now;
    }
    return true;
  }

  /** The times held for a device and not yet written, for pages to show at once. */
  heldFor(key: PresenceKey): { lastMessageAt: string | null; lastWillAt: string | null } | undefined {
    const entry = this.held.get(`${key.userId}\u0000${key.device}`);
    return entry && { lastMessageAt: entry.lastMessageAt, lastWillAt: entry.lastWillAt };
  }

  /** How many devices the recorder holds times for (bounded by the certificates' devices). */
  get size() {
    return this.held.size;
  }
}

/**
 * An MQTT.js client as a MessageSource: subscribes at QoS 0 (MQTT.js subscribes again after a
 * reconnect) and hands each message to the handler of the filter it matches.
 */
export function mqttMessageSource(client: MqttClient): MessageSource {
  const handlers = new Map<string, (message: IncomingMessage) => void>();
  client.on('message', (topic, payload, packet) => {
    for (const [filter, handler] of handlers)
      if (topicMatches(filter, topic)) handler({ topic, payload, retain: packet.retain });
  });
  return {
    subscribe(filter, onMessage) {
      handlers.set(filter, onMessage);
      client.subscribe(filter, { qos: 0 });
    },
    unsubscribe(filter) {
      handlers.delete(filter);
      if (client.connected) client.unsubscribe(filter);
    },
  };
}

/**
 * The broker link as a MessageSource: its `subscribe` renews the subscription on every reconnect, on
 * the link's one connection (no second account or socket).
 */
export function linkMessageSource(link: {
  subscribe(filter: string, handler: (topic: string, payload: Buffer, retain: boolean) => void): () => void;
}): MessageSource {
  const ends = new Map<string, () => void>();
  return {
    subscribe(filter, onMessage) {
      ends.get(filter)?.();
      ends.set(
        filter,
        link.subscribe(filter, (topic, payload, retain) => onMessage({ topic, payload, retain })),
      );
    },
    unsubscribe(filter) {
      ends.get(filter)?.();
      ends.delete(filter);
    },
  };
}
