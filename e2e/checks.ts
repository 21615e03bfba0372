// What every journey checks on a page, and the steps several journeys share: axe (serious and
// critical violations), no console errors, and on a phone in dark mode nothing past the screen's
// edge or out of its card; signing in once per stack; issuing through the form.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect, type Cookie, type Page } from '@playwright/test';
import type { Stack } from './stack.js';

export const ADMIN = { username: 'owner', password: 'a long admin password' };

/** Each watched page's console errors and uncaught exceptions, so a failure names the test it came from. */
const consoleErrors = new WeakMap<Page, string[]>();

/** axe-core's minified build (580 KB; its `axe.source` is the 1.3 MB unminified one). */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe's serious and critical violations on the page as it stands, with axe-core's own `axe.run` in
 * the page. axe is put into a document once: a page checked twice (light, then dark on a phone)
 * keeps it. @axe-core/playwright, used before, sent axe's unminified 1.3 MB twice per check and,
 * by default, opened a new page to merge the results of frames; no view of the portal has a
 * frame. Only violations are computed and sent back, the only results read.
 */
export async function noSeriousViolations(page: Page) {
  if (!(await page.evaluate<boolean>('typeof window.axe?.run === "function"'))) await page.evaluate(axeSource);
  const violations = await page.evaluate<Array<{ id: string; impact: string | null; targets: string[] }>>(
    `axe.run(document, { resultTypes: ['violations'] }).then((results) =>
      results.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))`,
  );
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.targets.join(', ')}`)).toEqual([]);
}

/** Records the page's console errors and uncaught exceptions; checkPage (or noConsoleErrors) fails on any. */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  consoleErrors.set(page, errors);
  page.on('console', (message) => {
    // A form sent back with its errors is answered 400 by design; Chromium logs that status for the document.
    const documentStatus =
      message.location().url === page.url() && /^Failed to load resource: .* status of 4\d\d/.test(message.text());
    if (message.type() === 'error' && !documentStatus) errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
}

/** Fails when the page logged a console error or threw since watchConsole. */
export function noConsoleErrors(page: Page) {
  expect(consoleErrors.get(page) ?? []).toEqual([]);
}

/**
 * Every page: labelled controls and no accessibility violations. With SCREENSHOTS=1 each page is also
 * kept as a full-page screenshot (the README's come from there); a failing test gets one anyway
 * (playwright.config.ts). Off by default: the 60 full-page captures were an eighth of the
 * journeys' CPU time and checked nothing.
 */
export async function checkPage(page: Page, name: string) {
  await noSeriousViolations(page);
  if (process.env.SCREENSHOTS === '1') {
    const dir = path.join('test-results', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  }
  noConsoleErrors(page);
}

/**
 * checkPage as it stands (1280×800, light), then the same page on a phone in dark mode (laid out
 * again without reloading, so a page shown once, such as the passphrase, is checked too), and back.
 */
export async function checkPageBothWays(page: Page, name: string) {
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
export async function textOutsideCards(page: Page): Promise<string[]> {
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
export async function signInWithForm(page: Page, stack: Stack) {
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
const sessions = new WeakMap<Stack, Cookie[]>();
export async function signIn(page: Page, stack: Stack) {
  const session = sessions.get(stack);
  if (session) {
    await page.context().addCookies(session);
    await page.goto(`${stack.baseUrl}/certificates`);
    await expect(page.getByRole('heading', { name: 'Certificates' })).toBeVisible();
    return;
  }
  await signInWithForm(page, stack);
  sessions.set(stack, await page.context().cookies());
}

export async function issue(page: Page, stack: Stack, username: string, device: string) {
  await page.goto(`${stack.baseUrl}/certificates/new`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.org`);
  await page.getByLabel('Device').fill(device);
  await page.getByLabel('Valid for (days)').fill('365');
  await page.getByRole('button', { name: 'Issue certificate' }).click();
  await expect(page.getByRole('heading', { name: 'Certificate issued' })).toBeVisible();
  return (await page.getByTestId('passphrase').textContent())!.trim();
}
