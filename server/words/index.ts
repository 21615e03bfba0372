// Every user-facing text, one catalog per language (English only for now). Pages and mail read
// their words from here, so a translation is one more catalog beside `en`, and the setup steps the
// mail gives and the steps the pickup pages give come from the same source (`steps`).
// The catalog depends on nothing of ours: pages, mail and use cases may all read it.
import { admin } from './en/admin.js';
import { broker } from './en/broker.js';
import { groups } from './en/groups.js';
import { mail } from './en/mail.js';
import { pages } from './en/pages.js';
import { pickup } from './en/pickup.js';
import { presence } from './en/presence.js';
import { rules } from './en/rules.js';
import { steps } from './en/steps.js';

export const en = { steps, mail, pages, pickup, broker, presence, groups, admin, rules } as const;

export type Words = typeof en;

/** The catalog to use; English is the only one so far (a language argument comes with the second catalog). */
export function wordsFor(): Words {
  return en;
}
