// The product the way an admin uses it, in a real Chromium, against a real SMTP server and a real
// Mosquitto. The journeys run in order on one stack: first run, issue, revoke, bad input. The sweep
// over every other page is pages.spec.ts, on a stack of its own.
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { openssl } from '../server/testing/openssl.js';
import {
  ADMIN,
  checkPage,
  checkPageBothWays,
  issue,
  noConsoleErrors,
  signIn,
  signInWithForm,
  watchConsole,
} from './checks.js';
import { Stack } from './stack.js';

test.describe.configure({ mode: 'serial' });

let stack: Stack;

test.beforeAll(async () => {
  stack = await Stack.start();
});
test.afterAll(async () => {
  await stack?.stop();
});

test.beforeEach(({ page }) => watchConsole(page));
// Errors after a test's last page check count too.
test.afterEach(({ page }) => noConsoleErrors(page));

/** Takes key and certificate out of the mailed bundle with openssl, as a device would use them. */
async function identityFromMail(index: number, username: string, passphrase: string, name: string) {
  const mail = (await stack.smtp.waitFor(index + 1))[index]!;
  const p12 = mail.parsed.attachments.find((a) => a.filename === `${username}-${name}.p12`)!.content;
  const file = stack.scratch.file(`${name}.p12`, p12);
  const certFile = stack.scratch.path(`${name}.crt`);
  const keyFile = stack.scratch.path(`${name}.key`);
  const cert = await openssl([
    'pkcs12',
    '-in',
    file,
    '-passin',
    `pass:${passphrase}`,
    '-clcerts',
    '-nokeys',
    '-out',
    certFile,
  ]);
  expect(cert.ok, cert.stderr).toBe(true);
  const key = await openssl([
    'pkcs12',
    '-in',
    file,
    '-passin',
    `pass:${passphrase}`,
    '-nocerts',
    '-noenc',
    '-out',
    keyFile,
  ]);
  expect(key.ok, key.stderr).toBe(true);
  return { mail, certFile, keyFile };
}

test('first run: the setup link creates the first admin; sign in; sign out', async ({ page }) => {
  // Printed where a person looks: the link alone on a line of its own, not only inside a JSON log line.
  expect(stack.log.some((line) => /^ {2}http:\/\/\S+\/setup\?token=[\w-]+$/.test(line))).toBe(true);
  await page.goto(`${stack.baseUrl}${stack.setupPath()}`);
  await expect(page.getByRole('heading', { name: 'Create the first admin' })).toBeVisible();
  await checkPageBothWays(page, '01-setup');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Confirm password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin' }).click();
  await expect(page.getByText('The first admin was created. Sign in to continue.')).toBeVisible();
  await checkPageBothWays(page, '02-sign-in');
  await signInWithForm(page, stack); // this session ends below: not the one the later journeys keep
  await checkPageBothWays(page, '03-getting-started');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You are signed out.')).toBeVisible();
  await page.goto(`${stack.baseUrl}/certificates`);
  await expect(page).toHaveURL(/\/login\?next=/);
});

let phone: { serial: string; certFile: string; keyFile: string };

test('issue for jjolie: passphrase shown, mail with the files, openssl opens it, Mosquitto accepts it', async ({
  page,
}) => {
  await signIn(page, stack);
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await checkPage(page, '04-issue-form');
  const passphrase = await issue(page, stack, 'jjolie', 'phone');
  expect(passphrase).toMatch(/^[2-9a-z]{4}(-[2-9a-z]{4}){5}$/);
  await checkPageBothWays(page, '05-issued');

  const { mail, certFile, keyFile } = await identityFromMail(0, 'jjolie', passphrase, 'phone');
  expect(mail.to).toEqual(['jjolie@example.org']);
  expect(mail.parsed.attachments.map((a) => a.filename).sort()).toEqual([
    'ca.crt',
    'jjolie-phone.otrc',
    'jjolie-phone.otrp',
    'jjolie-phone.p12',
  ]);
  expect(mail.raw.toString()).not.toContain(passphrase);

  // The ACL owntracks/%u/# lets jjolie in only under owntracks/jjolie/: the CN is the MQTT username.
  const identity = { certFile, keyFile };
  const subscription = stack.broker.subscribeOnce(identity, 'owntracks/jjolie/#', 10);
  await subscription.ready;
  expect(await stack.broker.publish(identity, 'owntracks/jjolie/phone', '{"_type":"location"}')).toBe(true);
  expect(await subscription.message).toBe('{"_type":"location"}');

  const serial = (await openssl(['x509', '-in', certFile, '-noout', '-serial'])).stdout
    .trim()
    .split('=')[1]!
    .toLowerCase();
  phone = { serial, certFile, keyFile };
});

test('a second device; revoking the phone keeps it out of the broker and the tablet in', async ({ page }) => {
  await signIn(page, stack);
  // Before issuing, the form names what an empty Device becomes for the typed person: jjolie's
  // phone is taken, so the next default is phone-2; a new person starts at phone.
  await page.goto(`${stack.baseUrl}/certificates/new`);
  const deviceHint = page.locator('#h-device');
  await page.getByLabel('Username').fill('jjolie');
  await page.getByLabel('Username').blur();
  await expect(deviceHint).toContainText('“phone-2”');
  await page.getByLabel('Username').fill('someone-new');
  await page.getByLabel('Username').blur();
  await expect(deviceHint).toContainText('“phone”');
  const passphrase = await issue(page, stack, 'jjolie', 'tablet');
  const tablet = await identityFromMail(1, 'jjolie', passphrase, 'tablet');

  await page.goto(`${stack.baseUrl}/certificates`);
  await checkPage(page, '06-list');
  await page.getByRole('row').filter({ hasText: 'phone' }).getByRole('link', { name: 'jjolie' }).click();
  await expect(page.getByText(phone.serial, { exact: true })).toBeVisible();
  await checkPage(page, '07-detail');
  await page.getByLabel('Reason').selectOption('keyCompromise');
  await page.getByRole('button', { name: 'Revoke certificate' }).click();
  // The confirmation page names the person and the device; the same button revokes.
  await expect(page.getByRole('heading', { name: 'Revoke the certificate of jjolie (phone)?' })).toBeVisible();
  await page.getByRole('button', { name: 'Revoke certificate' }).click();
  await expect(page.getByText('Certificate revoked.')).toBeVisible();
  await expect(page.getByText('The broker was asked to re-read the CRL')).toBeVisible();
  await checkPageBothWays(page, '08-revoked');

  await page.goto(`${stack.baseUrl}/certificates`);
  await expect(page.getByRole('row').filter({ hasText: 'phone' }).getByText('revoked', { exact: true })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'tablet' }).getByText('active', { exact: true })).toBeVisible();

  const crl = await page.request.get(`${stack.baseUrl}/crl.pem`);
  const crlFile = stack.scratch.file('crl.pem', await crl.body());
  const crlText = await openssl([
    'crl',
    '-in',
    crlFile,
    '-CAfile',
    path.join(stack.dataDir, 'ca.crt'),
    '-noout',
    '-text',
  ]);
  expect(crlText.stderr + crlText.stdout).toContain('verify OK');
  expect(crlText.stdout).toContain(`Serial Number: ${phone.serial.toUpperCase()}`);

  await expect
    .poll(() => stack.broker.publish(phone, 'owntracks/jjolie/phone', 'after revocation'), { timeout: 10_000 })
    .toBe(false);
  expect(
    await stack.broker.publish(
      { certFile: tablet.certFile, keyFile: tablet.keyFile },
      'owntracks/jjolie/tablet',
      'still in',
    ),
  ).toBe(true);
});

test('bad input shows errors beside the fields and issues nothing', async ({ page }) => {
  await signIn(page, stack);
  const mailsBefore = stack.smtp.accepted;
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await page.getByLabel('Username').fill('J/Jolie');
  await page.getByLabel('Email').fill('not an address');
  await page.getByLabel('Valid for (days)').fill('0');
  await page.getByRole('button', { name: 'Issue certificate' }).click();
  await expect(page.getByText('Nothing was issued')).toBeVisible();
  await expect(page.locator('#e-username')).toContainText('lower-case letters');
  await expect(page.locator('#e-email')).toContainText('valid email');
  await expect(page.locator('#e-days')).toContainText('1 to 3650');
  await expect(page.getByLabel('Username')).toHaveValue('J/Jolie');
  await checkPageBothWays(page, '09-form-errors');
  await page.goto(`${stack.baseUrl}/certificates`);
  await expect(page.getByRole('row')).toHaveCount(3); // header, phone, tablet
  expect(stack.smtp.accepted).toBe(mailsBefore);
});
