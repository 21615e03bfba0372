// The environment, read through one zod schema: defaults, refusals with one line, *_FILE secrets.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from './config.js';
import { tempDir } from './testing/temp-dir.js';

describe('configuration', () => {
  test('defaults make a fresh machine work', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.mailFrom, 'OwnTracks Enroll <enroll@localhost>');
    assert.equal(config.caCommonName, 'OwnTracks Enroll CA');
    assert.deepEqual(config.mqtt, { host: undefined, port: 8883 });
    assert.equal(config.auditRetentionDays, undefined, 'the audit log is kept for ever');
  });

  test('AUDIT_RETENTION_DAYS is a whole number of days', () => {
    assert.equal(loadConfig({ AUDIT_RETENTION_DAYS: '365' }).auditRetentionDays, 365);
  });

  test('PUBLIC_URL follows PORT and loses a trailing slash', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ PUBLIC_URL: 'https://enroll.example.org/' }).publicUrl, 'https://enroll.example.org');
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^Configuration error: PORT: must be a whole number/],
    [{ PORT: '70000' }, /^Configuration error: PORT: must be a whole number/],
    [{ PORT: '3.5' }, /^Configuration error: PORT: /],
    [{ MQTT_PORT: '0' }, /^Configuration error: MQTT_PORT: /],
    [{ PUBLIC_URL: 'ftp://example.org' }, /^Configuration error: PUBLIC_URL: must be an http/],
    [{ PUBLIC_URL: 'not a url' }, /^Configuration error: PUBLIC_URL: /],
    [{ SMTP_URL: 'http://mail' }, /^Configuration error: SMTP_URL: must be an smtp/],
    [{ ADMIN_USERNAME: 'root' }, /^Configuration error: ADMIN_PASSWORD: .*set together/],
    [{ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' }, /^Configuration error: ADMIN_PASSWORD: must be at least 12/],
    [{ CA_KEY_PASSPHRASE: 'x' }, /^Configuration error: CA_KEY_PASSPHRASE: /],
    [{ LOG_LEVEL: 'loud' }, /^Configuration error: LOG_LEVEL: /],
    [{ AUDIT_RETENTION_DAYS: '0' }, /^Configuration error: AUDIT_RETENTION_DAYS: must be a whole number of days/],
    [{ AUDIT_RETENTION_DAYS: '1.5' }, /^Configuration error: AUDIT_RETENTION_DAYS: must be a whole number of days/],
    [{ ADMIN_PASSWORD_FILE: '/nonexistent/secret' }, /^Configuration error: ADMIN_PASSWORD_FILE: cannot read/],
  ];
  for (const [env, message] of bad) {
    test(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: Error) => {
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /\n/, 'one line');
          return true;
        },
      );
    });
  }

  test('secrets can come from *_FILE, but not from both', () => {
    const dir = tempDir();
    const file = path.join(dir, 'pass');
    writeFileSync(file, 'a-very-secret-passphrase\n');
    assert.equal(loadConfig({ CA_KEY_PASSPHRASE_FILE: file }).caKeyPassphrase, 'a-very-secret-passphrase');
    assert.throws(
      () => loadConfig({ CA_KEY_PASSPHRASE_FILE: file, CA_KEY_PASSPHRASE: 'another-passphrase' }),
      /not both/,
    );
  });
});
