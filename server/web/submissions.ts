// One sending of a form that makes something (the issue form): each rendering carries a random
// submission id, and a second POST with the same id (a double click, a resend after a slow answer)
// waits for the first and is sent where the first was, instead of issuing again. Otherwise the
// browser shows the second answer ("this device already has a certificate") while the first one's
// passphrase or pickup code, shown only once, sits behind a redirect nobody follows. In memory, per
// admin, for ten minutes. The first POST's notices go to the later ones too: each request saves its
// own copy of the session, and the copy saved last (the later POST's, when the session's last-seen
// time is due) would otherwise drop them.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Notice } from './presenters.js';

const TTL_MS = 10 * 60_000;

/** The form's hidden field. */
export const submissionSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16}$/)
  .optional();

export const newSubmissionId = () => randomBytes(12).toString('base64url');

/** What a later POST of a submission gets: where the first went, and the notices it flashed. */
interface Outcome {
  location: string;
  notices?: readonly Notice[];
}

export class Submissions {
  #entries = new Map<string, { outcome: Promise<Outcome | undefined>; expires: number }>();

  constructor(private readonly now: () => Date) {}

  /**
   * Runs `work` for the first POST of a submission; a later one with the same key waits for it and
   * gets the location it redirected to. `work` answers with a location to redirect to, or undefined
   * (a form sent back with errors: a second POST then runs on its own), and `retry: true` where its
   * location tells of a failure worth trying again (the mail server down): a later POST runs too.
   * Without a key, just `work`.
   */
  async once<T extends { location?: string | undefined; retry?: boolean; notices?: readonly Notice[] }>(
    key: string | undefined,
    work: () => Promise<T>,
  ): Promise<T | Outcome> {
    if (key === undefined) return work();
    this.#sweep();
    // Wait for the POST under way; after one that failed, the first waiter runs next and the
    // others wait for it in turn (never two at once).
    for (let earlier = this.#entries.get(key); earlier; ) {
      const outcome = await earlier.outcome;
      if (outcome !== undefined) return outcome;
      const next = this.#entries.get(key);
      if (next === earlier) break;
      earlier = next;
    }
    let settle: (outcome: Outcome | undefined) => void = () => undefined;
    const outcome = new Promise<Outcome | undefined>((resolve) => (settle = resolve));
    this.#entries.set(key, { outcome, expires: this.now().getTime() + TTL_MS });
    try {
      const result = await work();
      settle(
        result.retry || result.location === undefined
          ? undefined
          : { location: result.location, ...(result.notices && { notices: result.notices }) },
      );
      return result;
    } finally {
      settle(undefined); // a failure: a later POST runs on its own (no-op once settled)
    }
  }

  /**
   * The POST of a form that acts (Revoke, Replace, Resend, Cancel…): runs `work` once per submission
   * of the signed-in admin, flashes the notices, and redirects where it says; not found when it
   * gives no location. `scope` narrows the key, for one id shared by a page's forms.
   */
  async respond(
    request: FastifyRequest,
    reply: FastifyReply,
    submission: string | undefined,
    work: () => Promise<{ location?: string | undefined; retry?: boolean; notices?: readonly Notice[] }>,
    scope = '',
  ) {
    const key = submission && `${request.session.admin!}\u0000${scope}\u0000${submission}`;
    const { location, notices = [] } = await this.once(key, work);
    // A later POST that loaded the session after the first one saved it finds the notices there
    // already (a resend after a slow answer): not twice.
    const pending = ((request.session as unknown as { get(key: 'flash'): unknown }).get('flash') ?? {}) as Partial<
      Record<Notice['kind'], string[]>
    >;
    for (const notice of notices)
      if (!pending[notice.kind]?.includes(notice.message)) request.flash(notice.kind, notice.message);
    return location === undefined ? reply.callNotFound() : reply.redirect(location, 303);
  }

  #sweep() {
    const now = this.now().getTime();
    for (const [key, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(key);
  }
}
