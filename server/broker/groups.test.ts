// The sharing groups' plan as data: which dynsec commands each change sends.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ctrlArguments,
  groupPlan,
  peopleGroupPlan,
  personPlan,
  PEOPLE_PRIORITY,
  SHARE_PRIORITY,
  sharedTopics as shared,
} from './groups.js';

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

  test('a group shares what the apps show of a friend: locations, events and cards, nothing else of theirs', () => {
    assert.deepEqual(shared('alice'), ['owntracks/alice/+', 'owntracks/alice/+/event', 'owntracks/alice/+/info']);
  });

  test('create, add, remove, rename and delete', () => {
    const created = groupPlan(undefined, { id: 7, members: ['alice', 'bob'] });
    assert.deepEqual(
      created.map((command) => ctrlArguments(command).join(' ')),
      [
        'createRole share-7',
        'createGroup share-7',
        'addGroupRole share-7 share-7 0',
        ...shared('alice').map((topic) => `addRoleACL share-7 publishClientReceive ${topic} allow 0`),
        `addGroupClient share-7 alice ${SHARE_PRIORITY}`,
        ...shared('bob').map((topic) => `addRoleACL share-7 publishClientReceive ${topic} allow 0`),
        `addGroupClient share-7 bob ${SHARE_PRIORITY}`,
      ],
    );
    assert.deepEqual(
      groupPlan({ id: 7, members: ['alice', 'bob'] }, { id: 7, members: ['alice', 'carol'] }).map((command) =>
        ctrlArguments(command).join(' '),
      ),
      [
        'removeGroupClient share-7 bob',
        ...shared('bob').map((topic) => `removeRoleACL share-7 publishClientReceive ${topic}`),
        ...shared('carol').map((topic) => `addRoleACL share-7 publishClientReceive ${topic} allow 0`),
        `addGroupClient share-7 carol ${SHARE_PRIORITY}`,
      ],
    );
    assert.deepEqual(groupPlan({ id: 7, members: ['alice'] }, { id: 7, members: ['alice'] }), [], 'a rename');
    assert.deepEqual(
      groupPlan({ id: 7, members: ['alice'] }, undefined).map((command) => command.command),
      ['removeGroupClient', 'removeRoleACL', 'removeRoleACL', 'removeRoleACL', 'deleteGroup', 'deleteRole'],
    );
  });
});
