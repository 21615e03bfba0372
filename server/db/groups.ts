// The sharing groups: a name and the people in it (people in a group see each other in the app).
import type { Db } from './database.js';

export interface GroupView {
  id: number;
  name: string;
  created_at: string;
  members: string[];
}

// Compatibility forms (full-width letters, ligatures) read as their plain letters, and a case fold
// that is more than one letter for one: ß and ẞ are SS in capitals (lowered first: ẞ has no other
// capital), and σ and ς, both Σ in capitals, compare alike.
const folded = (name: string) => name.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
const sameName = (a: string, b: string) => folded(a) === folded(b);

export function groupsRepository(db: Db) {
  const all = db.prepare<[], { id: number; name: string; created_at: string }>(
    'SELECT id, name, created_at FROM sharing_groups ORDER BY name COLLATE NOCASE, id',
  );
  const byId = db.prepare<[number], { id: number; name: string; created_at: string }>(
    'SELECT id, name, created_at FROM sharing_groups WHERE id = ?',
  );
  const members = db.prepare<[number], { username: string }>(
    `SELECT u.username FROM sharing_group_members m JOIN users u ON u.id = m.user_id
      WHERE m.group_id = ? ORDER BY u.username`,
  );
  const names = db.prepare<[], { id: number; name: string }>('SELECT id, name FROM sharing_groups');
  const insert = db.prepare<[string, string]>('INSERT INTO sharing_groups (name, created_at) VALUES (?, ?)');
  const rename = db.prepare<[string, number]>('UPDATE sharing_groups SET name = ? WHERE id = ?');
  const add = db.prepare<[number, string, number]>(
    // Only a person who is not deleted: a deleted name given to someone new must start in no group.
    `INSERT INTO sharing_group_members (group_id, user_id, added_at)
     SELECT ?, id, ? FROM users WHERE id = ? AND deleted_at IS NULL
     ON CONFLICT DO NOTHING`,
  );
  const remove = db.prepare<[number, number]>('DELETE FROM sharing_group_members WHERE group_id = ? AND user_id = ?');
  const people = db.prepare<[], { username: string }>(
    'SELECT username FROM users WHERE deleted_at IS NULL ORDER BY username',
  );
  const view = (row: { id: number; name: string; created_at: string }): GroupView => ({
    ...row,
    members: members.all(row.id).map((member) => member.username),
  });

  return {
    list: (): GroupView[] => all.all().map(view),
    find: (id: number): GroupView | undefined => {
      const row = byId.get(id);
      return row && view(row);
    },
    /**
     * Whether another group has this name, composed or not, in any case and in compatibility forms
     * (SQLite's NOCASE folds ASCII only): names that look alike are one name. Groups are few, so they are compared here.
     */
    nameTaken: (name: string, exceptId?: number) =>
      names.all().some((row) => row.id !== exceptId && sameName(row.name, name)),
    create: (name: string, at: Date): number => Number(insert.run(name, at.toISOString()).lastInsertRowid),
    rename: (id: number, name: string) => void rename.run(name, id),
    /** Returns false when the person was already in the group, or is deleted. */
    addMember: (groupId: number, userId: number, at: Date) => add.run(groupId, at.toISOString(), userId).changes === 1,
    /** Returns false when the person was not in the group. */
    removeMember: (groupId: number, userId: number) => remove.run(groupId, userId).changes === 1,
    /** Everyone who could join a group: the people certificates were issued to. */
    people: () => people.all().map((row) => row.username),
  };
}
export type GroupsRepository = ReturnType<typeof groupsRepository>;
