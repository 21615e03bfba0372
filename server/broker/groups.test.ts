// The sharing groups' plan as data: which dynsec commands each change sends.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ctrlArguments, groupPlan, peopleGroupPlan, personPlan, PEOPLE_PRIORITY, SHARE_PRIORITY } from './groups.js';

describe('sharing groups plan', () => {
  test('people may subscribe to every OwnTracks topic but receive none of it, below every sharing group', () => {
    const acls = peopleGroupPlan().filter((command) => command.command === 'addRoleACL');
    assert.deepEqual(
      acls.map((acl) => [acl.acltype, acl.topic, acl.allow]),
      [
        ['subscribePattern', 'owntracks/#', true],
        ['publishClientReceive', 'owntracks/#', false],
      ],
    );
    assert.ok(PEOPLE_PRIORITY < SHARE_PRIORITY);
    assert.ok(!peopleGroupPlan().some((command) => /Default|Anonymous/.test(command.command)), 'defaults untouched');
  });

  test('a person’s own role covers their own topics only', () => {
    const topics = personPlan('alice').flatMap((command) => (command.command === 'addRoleACL' ? [command.topic] : []));
    assert.deepEqual(topics, ['owntracks/alice/#', 'owntracks/alice/#', 'owntracks/alice/#']);
  });

  test('create, add, remove, rename and delete', () => {
    const created = groupPlan(undefined, { id: 7, members: ['alice', 'bob'] });
    assert.deepEqual(
      created.map((command) => ctrlArguments(command).join(' ')),
      [
        'createRole share-7',
        'createGroup share-7',
        'addGroupRole share-7 share-7 0',
        'addRoleACL share-7 publishClientReceive owntracks/alice/# allow 0',
        `addGroupClient share-7 alice ${SHARE_PRIORITY}`,
        'addRoleACL share-7 publishClientReceive owntracks/bob/# allow 0',
        `addGroupClient share-7 bob ${SHARE_PRIORITY}`,
      ],
    );
    assert.deepEqual(
      groupPlan({ id: 7, members: ['alice', 'bob'] }, { id: 7, members: ['alice', 'carol'] }).map((command) =>
        ctrlArguments(command).join(' '),
      ),
      [
        'removeGroupClient share-7 bob',
        'removeRoleACL share-7 publishClientReceive owntracks/bob/#',
        'addRoleACL share-7 publishClientReceive owntracks/carol/# allow 0',
        `addGroupClient share-7 carol ${SHARE_PRIORITY}`,
      ],
    );
    assert.deepEqual(groupPlan({ id: 7, members: ['alice'] }, { id: 7, members: ['alice'] }), [], 'a rename');
    assert.deepEqual(
      groupPlan({ id: 7, members: ['alice'] }, undefined).map((command) => command.command),
      ['removeGroupClient', 'removeRoleACL', 'deleteGroup', 'deleteRole'],
    );
  });
});
