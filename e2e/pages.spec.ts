// Every page of the portal in a real Chromium, at 1280×800 in light and 390×844 in dark mode: axe,
// labelled controls, no console errors, nothing wider than the screen. A stack of its own, so these
// sweeps run beside the journeys (journeys.spec.ts) instead of after them: the first admin comes from
// ADMIN_USERNAME/ADMIN_PASSWORD, and jjolie gets a phone (revoked) and a tablet through the form, as
// the journeys leave them.
import { expect, test } from '@playwright/test';
import {
  ADMIN,
  checkPage,
  checkPageBothWays,
  issue,
  noConsoleErrors,
  signIn,
  textOutsideCards,
  watchConsole,
} from './checks.js';
import { Stack } from './stack.js';

test.describe.configure({ mode: 'serial' });

let stack: Stack;

test.beforeAll(async ({ browser }) => {
  stack = await Stack.start({ env: { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password } });
  const page = await browser.newPage();
  watchConsole(page);
  await signIn(page, stack);
  await issue(page, stack, 'jjolie', 'phone');
  await issue(page, stack, 'jjolie', 'tablet');
  await page.goto(`${stack.baseUrl}/certificates`);
  await page.getByRole('row').filter({ hasText: 'phone' }).getByRole('link', { name: 'jjolie' }).click();
  await page.getByLabel('Reason').selectOption('keyCompromise');
  await page.getByRole('button', { name: 'Revoke certificate' }).click();
  await page.getByRole('button', { name: 'Revoke certificate' }).click();
  await expect(page.getByText('Certificate revoked.')).toBeVisible();
  noConsoleErrors(page);
  await page.close();
});
test.afterAll(async () => {
  await stack?.stop();
});

test.beforeEach(({ page }) => watchConsole(page));
// Errors after a test's last page check count too.
test.afterEach(({ page }) => noConsoleErrors(page));

test('every other page: labelled controls, no accessibility violations, no console errors', async ({ page }) => {
  await signIn(page, stack);
  const pages = [
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
  // The portal checked, over TLS, whether phones trust the broker at MQTT_HOST without its CA: the
  // broker (started after the portal) refused, or answered with the portal's own server certificate.
  await page.goto(`${stack.baseUrl}/settings`);
  await expect(page.locator('#broker-trust-verdict')).toHaveText(
    /could not check the certificate at 127\.0\.0\.1:\d+ \(ECONNREFUSED|certificate at 127\.0\.0\.1:\d+ is not one phones trust on their own/,
  );
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
  await signIn(page, stack);
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
