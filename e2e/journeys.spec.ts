// The product the way an admin uses it, in a real Chromium, against a real SMTP server and a real
// Mosquitto. The journeys run in order on one stack: first run, issue, revoke, bad input.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { expect, test, type Cookie, type Page } from '@playwright/test';
import { openssl } from '../server/testing/openssl.js';
import { Stack } from './stack.js';

const ADMIN = { username: 'owner', password: 'a long admin password' };
test.describe.configure({ mode: 'serial' });

let stack: Stack;
const consoleErrors: string[] = [];

test.beforeAll(async () => {
  stack = await Stack.start();
});
test.afterAll(async () => {
  await stack?.stop();
});

test.beforeEach(async ({ page }) => {
  page.on('console', (message) => {
    // A form sent back with its errors is answered 400 by design; Chromium logs that status for the document.
    const documentStatus =
      message.location().url === page.url() && /^Failed to load resource: .* status of 4\d\d/.test(message.text());
    if (message.type() === 'error' && !documentStatus) consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
});

/**
 * Every page: labelled controls and no accessibility violations. With SCREENSHOTS=1 each page is also
 * kept as a full-page screenshot (the README's come from there); a failing test gets one anyway
 * (playwright.config.ts). Off by default: the 60 full-page captures were an eighth of the
 * journeys' CPU time and checked nothing.
 */
async function checkPage(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  if (process.env.SCREENSHOTS === '1') {
    const dir = path.join('test-results', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  }
  expect(consoleErrors).toEqual([]);
}

/**
 * checkPage as it stands (1280×800, light), then the same page on a phone in dark mode (laid out
 * again without reloading, so a page shown once, such as the passphrase, is checked too), and back.
 */
async function checkPageBothWays(page: Page, name: string) {
  await checkPage(page, name);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(page, `${name}-390-dark`);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth'), name).toBeLessThanOrEqual(390);
  expect(await textOutsideCards(page), name).toEqual([]);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * Text that runs past the content box of the card holding it (into its padding or beyond), as
 * "text…: by N px"; text inside a frame that scrolls or clips (tables, code blocks, fields) and
 * visually hidden labels do not count.
 */
async function textOutsideCards(page: Page): Promise<string[]> {
  // A string, as the other evaluations here: the project's types have no DOM library.
  return page.evaluate<string[]>(`(() => {
    const found = [];
    for (const card of document.querySelectorAll('.card')) {
      const box = card.getBoundingClientRect();
      const style = getComputedStyle(card);
      const left = box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
      const right = box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
      const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        let framed = false;
        for (let el = node.parentElement; el && el !== card; el = el.parentElement)
          if (getComputedStyle(el).overflowX !== 'visible' || el.matches('.visually-hidden, textarea, select')) framed = true;
        if (framed) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
          const past = Math.max(rect.right - right, left - rect.left);
          if (rect.width > 0 && past > 1) found.push(node.textContent.trim().slice(0, 40) + ': by ' + Math.round(past) + ' px');
        }
      }
    }
    return found;
  })()`);
}

/** Signs in through the form, landing on the certificate list. */
async function signInWithForm(page: Page) {
  await page.goto(`${stack.baseUrl}/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Certificates' })).toBeVisible();
}

/**
 * The first journey after the first run signs in through the form and keeps its session cookie;
 * the later ones start from that session, on the certificate list, instead of spending a sign-in
 * (the password hash at full cost, two more pages) each. The form itself is the first two journeys'.
 */
let session: Cookie[] | undefined;
async function signIn(page: Page) {
  if (session) {
    await page.context().addCookies(session);
    await page.goto(`${stack.baseUrl}/certificates`);
    await expect(page.getByRole('heading', { name: 'Certificates' })).toBeVisible();
    return;
  }
  await signInWithForm(page);
  session = await page.context().cookies();
}

async function issue(page: Page, username: string, device: string) {
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.org`);
  await page.getByLabel('Device').fill(device);
  await page.getByLabel('Valid for (days)').fill('365');
  await page.getByRole('button', { name: 'Issue certificate' }).click();
  await expect(page.getByRole('heading', { name: 'Certificate issued' })).toBeVisible();
  return (await page.getByTestId('passphrase').textContent())!.trim();
}

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
  await signInWithForm(page); // this session ends below: not the one the later journeys keep
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
  await signIn(page);
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await checkPage(page, '04-issue-form');
  const passphrase = await issue(page, 'jjolie', 'phone');
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
  await signIn(page);
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
  const passphrase = await issue(page, 'jjolie', 'tablet');
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
  await signIn(page);
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

test('every other page: labelled controls, no accessibility violations, no console errors', async ({ page }) => {
  await signIn(page);
  const pages = [
    ['/outbox', 'Outbox', '10-outbox'],
    ['/audit', 'Audit log', '11-audit'],
    ['/broker', 'Broker', '12-broker'],
    ['/backups', 'Backups', '12b-backups'],
    ['/settings', 'Settings', '12c-settings'],
    ['/invitations', 'Pickup invitations', '12d-pickups'],
    ['/certificates?status=revoked', 'Certificates', '13-list-revoked'],
    ['/no/such/page', 'Page not found', '14-not-found'],
  ] as const;
  for (const [url, heading, name] of pages) {
    await page.goto(`${stack.baseUrl}${url}`);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    await checkPage(page, name);
  }
  // The same pages on a phone in dark mode: contrast in the dark colours, nothing past the screen's edge.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const [url, heading, name] of pages) {
    await page.goto(`${stack.baseUrl}${url}`);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    await checkPage(page, `${name}-390-dark`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth'), url).toBeLessThanOrEqual(390);
    expect(await textOutsideCards(page), url).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(`${stack.baseUrl}/broker`);
  await page.getByLabel('Host names').fill('mqtt.example.org');
  await page.getByRole('button', { name: 'Issue server certificate' }).click();
  await expect(page.getByText('the key is held in memory for ten minutes only')).toBeVisible();
  await expect(page).toHaveURL(/\/broker\/server-cert\/\d+\/issued\?ticket=/);
  await expect(page.getByRole('link', { name: 'Download server.key' })).toBeVisible();
  await checkPageBothWays(page, '15-broker-cert');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${stack.baseUrl}/certificates`);
  await checkPage(page, '16-list-phone');
});

test('the changed pages at 1280×800 in light and 390×844 in dark mode: axe, nothing wider than the screen', async ({
  page,
}) => {
  await signIn(page);
  const tabletId = await page
    .getByRole('row')
    .filter({ hasText: 'tablet' })
    .getByRole('link', { name: 'jjolie' })
    .getAttribute('href');
  const pages = [
    ['/certificates', 'Certificates', 'list'],
    ['/certificates/new', 'Issue a certificate', 'issue-form'],
    [tabletId!, 'Certificate of jjolie (tablet)', 'detail'],
    [`${tabletId}/revoke?reason=keyCompromise`, 'Revoke the certificate of jjolie (tablet)?', 'revoke-confirm'],
    [`${tabletId}/replace?reason=superseded`, 'Replace the certificate of jjolie (tablet)?', 'replace-confirm'],
    ['/people/jjolie', 'jjolie', 'person'],
    ['/people/jjolie/delete', 'Delete jjolie?', 'person-delete'],
    ['/audit', 'Audit log', 'audit'],
    ['/outbox', 'Outbox', 'outbox'],
  ] as const;
  for (const [width, height, scheme] of [
    [1280, 800, 'light'],
    [390, 844, 'dark'],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.emulateMedia({ colorScheme: scheme });
    for (const [url, heading, name] of pages) {
      await page.goto(`${stack.baseUrl}${url}`);
      await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
      if (name === 'issue-form') await page.getByText('More choices').click(); // the folded choices, checked too
      await checkPage(page, `20-${name}-${width}-${scheme}`);
      // Nothing runs past the screen's edge (tables scroll inside their own frame), nor into a card's padding.
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      expect(await textOutsideCards(page), `${url} at ${width}`).toEqual([]);
    }
    const background = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    expect(background).toBe(scheme === 'dark' ? 'rgb(18, 23, 29)' : 'rgb(244, 246, 248)');
  }
  // On a phone the list still tells the phone from the tablet; the issue form's inputs line up.
  await page.goto(`${stack.baseUrl}/certificates`);
  await expect(page.getByRole('columnheader', { name: 'Device' })).toBeVisible();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${stack.baseUrl}/certificates/new`);
  const tops = await Promise.all(
    ['Username', 'Email', 'Device', 'Valid for (days)'].map(
      async (label) => (await page.getByLabel(label).boundingBox())!,
    ),
  );
  expect(new Set(tops.map((box) => Math.round(box.height))).size).toBe(1);
  expect(Math.round(tops[0]!.y)).toBe(Math.round(tops[1]!.y));
});
