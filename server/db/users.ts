// The `users` table: the people certificates are issued to. username = certificate CN = MQTT username.
import type { Db } from './database.js';

export interface UserRow {
  id: number;
  username: string;
  email: string;
  created_at: string;
  /** Set when the person was deleted: the address is erased, the row stays for their certificates. */
  deleted_at: string | null;
}

export function usersRepository(db: Db) {
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const insert = db.prepare<[string, string, string]>(
    'INSERT INTO users (username, email, created_at) VALUES (?, ?, ?)',
  );
  const setEmail = db.prepare<[string, number]>('UPDATE users SET email = ? WHERE id = ?');
  const erase = db.prepare<[string, number]>("UPDATE users SET email = '', deleted_at = ? WHERE id = ?");
  const erasePresence = db.prepare<[number]>('DELETE FROM device_presence WHERE user_id = ?');
  const leaveGroups = db.prepare<[number]>('DELETE FROM sharing_group_members WHERE user_id = ?');
  const restore = db.prepare<[string, number]>('UPDATE users SET email = ?, deleted_at = NULL WHERE id = ?');
  return {
    find: (username: string) => byName.get(username),
    create: (username: string, email: string, at: Date): UserRow => {
      insert.run(username, email, at.toISOString());
      return byName.get(username)!;
    },
    setEmail: (id: number, email: string) => void setEmail.run(email, id),
    /**
     * Deletes a person's personal data (the address, when their devices were last seen on the
     * broker, whom they shared locations with) and marks them deleted: the name given to someone new
     * later starts in no sharing group. Inside the caller's transaction; returns how many groups they left.
     */
    erase: (id: number, at: Date): { groupsLeft: number } => {
      erase.run(at.toISOString(), id);
      erasePresence.run(id);
      return { groupsLeft: leaveGroups.run(id).changes };
    },
    /** A deleted person's name given to someone again, with their address. */
    restore: (id: number, email: string) => void restore.run(email, id),
  };
}
export type UsersRepository = ReturnType<typeof usersRepository>;
