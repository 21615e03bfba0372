// The pickup journey in a real Chromium against a real SMTP server: the admin mails a pickup link
// and shows a QR code; a desktop gets a QR of the page (decoded from a screenshot with zbarimg);
// an iPhone and an Android phone (their viewports and user agents) redeem and download their files.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { openssl } from '../server/testing/openssl.js';
import { noSeriousViolations } from './checks.js';
import { Stack } from './stack.js';

const execFileAsync = promisify(execFile);
const ADMIN = { username: 'owner', password: 'a long admin password' };
const IPHONE = {
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1',
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
};
const ANDROID = {
  userAgent:
    'Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  viewport: { width: 412, height: 915 },
  isMobile: true,
  hasTouch: true,
};

let stack: Stack;
test.beforeAll(async () => {
  stack = await Stack.start();
});
test.afterAll(async () => {
  await stack?.stop();
});

/** What a phone's camera would read: the QR code in a screenshot, decoded by zbarimg. */
async function scan(qr: Locator, name: string): Promise<string> {
  const file = stack.scratch.path(`${name}.png`);
  await qr.screenshot({ path: file });
  const { stdout } = await execFileAsync('zbarimg', ['--quiet', '--raw', file]);
  return stdout.trim();
}

async function invite(page: Page, username: string, delivery: 'Mail a pickup link' | 'Show a pickup QR code') {
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.org`);
  await page.getByLabel('Device').fill('phone');
  await page.getByRole('group', { name: 'Delivery' }).getByLabel(delivery).check();
  await page.getByRole('button', { name: 'Issue certificate' }).click();
  await expect(page.getByRole('heading', { name: 'Pickup link created' })).toBeVisible();
  return (await page.getByTestId('pickup-code').textContent())!.trim();
}

async function phone(browser: Browser, device: typeof IPHONE) {
  const context = await browser.newContext({ ...device, acceptDownloads: true });
  return context.newPage();
}

async function download(page: Page, link: Locator) {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = stack.scratch.path(file.suggestedFilename());
  await file.saveAs(path);
  return { name: file.suggestedFilename(), path };
}

test('from the mail to the downloads: desktop QR, iPhone by link and code, Android by QR code', async ({
  page,
  browser,
}) => {
  await page.goto(`${stack.baseUrl}${stack.setupPath()}`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Confirm password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin' }).click();
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Certificates' })).toBeVisible();

  // A mailed link: the code goes to the admin only.
  const code = await invite(page, 'rider1', 'Mail a pickup link');
  const mail = (await stack.smtp.waitFor(1))[0]!;
  const link = /http:\/\/\S+\/pickup\/[A-Za-z0-9_-]{22}/.exec(mail.parsed.text ?? '')![0];
  expect(mail.raw.toString()).not.toContain(code);

  // On a desktop the page offers a QR code of itself, to continue on the phone.
  await page.goto(link);
  expect(new URL(await scan(page.getByTestId('pickup-own-qr'), 'desktop')).pathname).toBe(new URL(link).pathname);

  // The iPhone: the code, one tap, then the guide with the profile, the .otrp and the config link.
  const iphone = await phone(browser, IPHONE);
  await iphone.goto(link);
  await noSeriousViolations(iphone);
  await iphone.getByLabel('Pickup code').fill(code);
  await iphone.getByRole('button', { name: 'Get my certificate' }).click();
  await expect(iphone.getByTestId('guide-ios')).toBeVisible();
  await noSeriousViolations(iphone);
  await iphone.reload(); // back from Settings: the guide is still there
  await expect(iphone.getByTestId('guide-ios')).toBeVisible();
  const profile = await download(iphone, iphone.getByTestId('download-mobileconfig'));
  expect(profile.name).toMatch(/\.mobileconfig$/);
  const otrp = await download(iphone, iphone.getByTestId('download-otrp'));
  expect(otrp.name).toBe('rider1-phone.otrp');
  const inline = (await iphone.getByTestId('configure-link').getAttribute('href'))!;
  const configuration = JSON.parse(
    Buffer.from(decodeURIComponent(inline.split('inline=')[1]!), 'base64').toString('utf8'),
  ) as { passphrase: string; clientpkcs: string };
  expect(configuration.clientpkcs).toBe('rider1-phone.otrp');
  const opened = await openssl(['pkcs12', '-in', otrp.path, '-passin', `pass:${configuration.passphrase}`, '-nokeys']);
  expect(opened.ok, opened.stderr).toBe(true);

  // In person: the QR code on the admin's screen carries link and code; the Android phone types nothing.
  await invite(page, 'rider2', 'Show a pickup QR code');
  await noSeriousViolations(page);
  const scanned = await scan(page.getByTestId('pickup-qr'), 'admin-qr');
  expect(scanned).toMatch(/\/pickup\/[A-Za-z0-9_-]{22}#code=\d{6}$/);
  expect(scanned.split('#')[0]).toBe((await page.getByTestId('pickup-link').textContent())!.trim());
  const android = await phone(browser, ANDROID);
  await android.goto(scanned);
  await expect(android.getByLabel('Pickup code')).toHaveValue(/^\d{6}$/);
  await android.getByRole('button', { name: 'Get my certificate' }).click();
  await expect(android.getByTestId('guide-android')).toBeVisible();
  const passphrase = (await android.getByTestId('passphrase').textContent())!.trim();
  const p12 = await download(android, android.getByTestId('download-p12'));
  expect(p12.name).toBe('rider2-phone.p12');
  const androidOpened = await openssl(['pkcs12', '-in', p12.path, '-passin', `pass:${passphrase}`, '-nokeys']);
  expect(androidOpened.ok, androidOpened.stderr).toBe(true);
  await expect(android.getByTestId('download-otrc')).toBeVisible();
  await android.getByRole('button', { name: 'Done' }).click();
  await expect(android.getByRole('heading', { name: 'All done' })).toBeVisible();

  await page.goto(`${stack.baseUrl}/invitations`);
  await expect(page.getByTestId('invitation-status')).toHaveText(['picked up', 'picked up']);
});
