// The `invitations` table: pickup links. A row holds hashes only (token and code), the settings of
// the certificate to make, and its state; the certificate exists once the invitation is redeemed.
import type { Db } from './database.js';

/** The device of a row stored without a name (enroll/rules.ts: DEFAULT_DEVICE). */
const UNNAMED_DEVICE = 'phone';

export type InvitationState = 'open' | 'redeemed' | 'expired' | 'cancelled';
export type InvitationKind = 'mail' | 'qr';

export interface InvitationRow {
  id: number;
  user_id: number;
  device: string | null;
  token_sha256: string;
  code_hmac: string;
  kind: InvitationKind;
  days: number;
  key_bits: number;
  bundle_format: 'compatible' | 'modern';
  created_by: string;
  created_at: string;
  expires_at: string;
  state: InvitationState;
  wrong_codes: number;
  /** Times it opened again without a download (pickup-rules.ts: MAX_REOPENINGS). */
  reopenings: number;
  certificate_id: number | null;
  closed_at: string | null;
}

/** An invitation with its person's name and address, as pages show it. */
export interface InvitationView extends InvitationRow {
  username: string;
  email: string;
  /** The delivery of the certificate made at redemption, if any. */
  certificate_delivery: string | null;
}

export type NewInvitation = Pick<
  InvitationRow,
  | 'user_id'
  | 'device'
  | 'token_sha256'
  | 'code_hmac'
  | 'kind'
  | 'days'
  | 'key_bits'
  | 'bundle_format'
  | 'created_by'
  | 'created_at'
  | 'expires_at'
>;

/**
 * SQL: redeemed, with its bundle not out yet (no certificate, or one still pending); `i` is the
 * invitation and `c` its certificate. The next start opens such a link again.
 */
const BUNDLE_NOT_OUT = `i.state = 'redeemed' AND (i.certificate_id IS NULL OR c.delivery = 'pending')`;

const VIEW = `SELECT i.*, u.username, u.email, c.delivery AS certificate_delivery
  FROM invitations i JOIN users u ON u.id = i.user_id LEFT JOIN certificates c ON c.id = i.certificate_id`;

export function invitationsRepository(db: Db) {
  const insert = db.prepare<NewInvitation>(
    `INSERT INTO invitations (user_id, device, token_sha256, code_hmac, kind, days, key_bits, bundle_format,
       created_by, created_at, expires_at)
     VALUES (@user_id, @device, @token_sha256, @code_hmac, @kind, @days, @key_bits, @bundle_format,
       @created_by, @created_at, @expires_at)`,
  );
  const byId = db.prepare<[number], InvitationView>(`${VIEW} WHERE i.id = ?`);
  const byToken = db.prepare<[string], InvitationView>(`${VIEW} WHERE i.token_sha256 = ?`);
  // A row stored without a device name (older releases) stands for the phone, as enroll/rules.ts's
  // deviceOf says: two apps with the deviceId "phone" would knock each other off the broker.
  const sameDevice = `coalesce(device, '${UNNAMED_DEVICE}') = coalesce(?, '${UNNAMED_DEVICE}')`;
  // Open and unexpired, or redeemed with its certificate still being made (not recorded yet).
  const openFor = db.prepare<[number, string | null, string], { id: number }>(
    `SELECT id FROM invitations WHERE user_id = ? AND ${sameDevice}
        AND (state = 'open' AND expires_at > ? OR state = 'redeemed' AND certificate_id IS NULL) LIMIT 1`,
  );
  const activeCertificateFor = db.prepare<[number, string | null, string], { id: number }>(
    `SELECT id FROM certificates WHERE user_id = ? AND ${sameDevice} AND status = 'active' AND not_after > ? LIMIT 1`,
  );
  const setState = db.prepare<[string, string | null, number, string]>(
    'UPDATE invitations SET state = ?, closed_at = ? WHERE id = ? AND state = ?',
  );
  const unfinishedOfUser = db.prepare<
    [number],
    { id: number; device: string | null; state: 'open' | 'redeemed'; kind: 'mail' | 'qr' }
  >(
    `SELECT i.id, i.device, i.state, i.kind FROM invitations i LEFT JOIN certificates c ON c.id = i.certificate_id
      WHERE i.user_id = ? AND (i.state = 'open' OR (${BUNDLE_NOT_OUT}))
      ORDER BY i.id`,
  );
  const usable = db.prepare<
    [string],
    { id: number; state: 'open' | 'redeemed'; username: string; device: string | null }
  >(
    `SELECT i.id, i.state, u.username, i.device FROM invitations i JOIN users u ON u.id = i.user_id
       LEFT JOIN certificates c ON c.id = i.certificate_id
      WHERE i.state = 'open' AND i.expires_at > ?
         OR ${BUNDLE_NOT_OUT}
      ORDER BY i.id`,
  );
  const wrongCode = db.prepare<[number]>('UPDATE invitations SET wrong_codes = wrong_codes + 1 WHERE id = ?');
  // An open link names no certificate (one made at an earlier redemption was revoked): while this
  // redemption mints, "redeemed, no certificate" is what marks it as minting.
  const claim = db.prepare<[string, number, string]>(
    `UPDATE invitations SET state = 'redeemed', closed_at = ?, certificate_id = NULL
      WHERE id = ? AND state = 'open' AND token_sha256 = ?`,
  );
  const attach = db.prepare<[number, number]>('UPDATE invitations SET certificate_id = ? WHERE id = ?');
  const reopen = db.prepare<[number, number | null]>(
    `UPDATE invitations SET state = 'open', closed_at = NULL, certificate_id = NULL, reopenings = reopenings + 1
      WHERE id = ? AND state = 'redeemed' AND certificate_id IS ?`,
  );
  const interrupted = db.prepare<[], InvitationView>(`${VIEW} WHERE ${BUNDLE_NOT_OUT}`);
  const renew = db.prepare<[string, string, string, number]>(
    `UPDATE invitations SET token_sha256 = ?, code_hmac = ?, expires_at = ?, state = 'open', wrong_codes = 0,
       reopenings = 0, closed_at = NULL, certificate_id = NULL WHERE id = ? AND state <> 'redeemed'`,
  );
  const openCount = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM invitations WHERE state = 'open' AND expires_at > ?",
  );
  const recent = db.prepare<[number], InvitationView>(`${VIEW} ORDER BY i.id DESC LIMIT ?`);
  const forCertificate = db.prepare<[number], InvitationView>(`${VIEW} WHERE i.certificate_id = ?`);
  const ofUser = db.prepare<[number, number], InvitationView>(`${VIEW} WHERE i.user_id = ? ORDER BY i.id DESC LIMIT ?`);

  return {
    insert: (row: NewInvitation): number => Number(insert.run(row).lastInsertRowid),
    find: (id: number) => byId.get(id),
    findByToken: (tokenSha256: string) => byToken.get(tokenSha256),
    /**
     * The one-device rule: an open, unexpired invitation (or one whose certificate is being made at its
     * redemption) or an active, unexpired certificate for (user, device).
     */
    occupied(userId: number, device: string | null, now: Date): 'invitation' | 'certificate' | undefined {
      const at = now.toISOString();
      if (openFor.get(userId, device, at)) return 'invitation';
      if (activeCertificateFor.get(userId, device, at)) return 'certificate';
      return undefined;
    },
    /** An active, unexpired certificate for (user, device): checked again at redemption. */
    hasActiveCertificate: (userId: number, device: string | null, now: Date) =>
      activeCertificateFor.get(userId, device, now.toISOString()) !== undefined,
    /** Moves `from` → `state`; false when the row was no longer in `from`. */
    transition: (id: number, from: InvitationState, state: InvitationState, at: Date) =>
      setState.run(state, at.toISOString(), id, from).changes === 1,
    /**
     * A person's links that may still mint or hand out a certificate: open ones, and redeemed ones
     * whose bundle has not left (minting, or held for download; a lapsed hold opens the link again).
     */
    unfinishedOfUser: (userId: number) => unfinishedOfUser.all(userId),
    /**
     * Every link that could still mint a certificate: open and unexpired, or redeemed with its bundle
     * not yet out (the next start opens those again).
     */
    usable: (now: Date) => usable.all(now.toISOString()),
    countWrongCode: (id: number) => void wrongCode.run(id),
    /** Open → redeemed, only while `tokenSha256` is still its link (a resend gives it another). */
    claim: (id: number, tokenSha256: string, at: Date) => claim.run(at.toISOString(), id, tokenSha256).changes === 1,
    attachCertificate: (id: number, certificateId: number) => void attach.run(certificateId, id),
    /**
     * Redeemed → open, counted, only while the link still names `certificateId` (null: none yet): a
     * hold of an earlier round (revoked, the link resent and used since) must not open it again.
     */
    reopen: (id: number, certificateId: number | null) => reopen.run(id, certificateId).changes === 1,
    /** Redeemed, but the bundle never left: no certificate yet, or one still pending. */
    interrupted: () => interrupted.all(),
    /** A new token and code for an invitation not yet redeemed: the old ones stop working. */
    renew: (id: number, tokenSha256: string, codeHmac: string, expiresAt: Date) =>
      renew.run(tokenSha256, codeHmac, expiresAt.toISOString(), id).changes === 1,
    openCount: (now: Date) => openCount.get(now.toISOString())!.n,
    recent: (limit: number) => recent.all(limit),
    /** A person's invitations, newest first, at most `limit`. */
    ofUser: (userId: number, limit: number) => ofUser.all(userId, limit),
    forCertificate: (certificateId: number) => forCertificate.get(certificateId),
  };
}
export type InvitationsRepository = ReturnType<typeof invitationsRepository>;
