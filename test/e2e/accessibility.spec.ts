import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';
import type { PageWindow } from './support/browser-types.js';
import { expectKeyboardAccessible } from './support/keyboard-audit.js';

/**
 * Every screen, locked and unlocked: each control has an accessible name, Tab reaches every enabled
 * control in reading order with a visible focus ring, and a whole ten-board run needs nothing but
 * the keyboard (slot keys, Enter, Tab) and a scanner (which types). No mouse call anywhere here.
 */

test.describe.configure({ mode: 'serial' });

let station: BrowserModeStation;
let dataDir: string;
const PIN = '582046';

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-a11y-'));
  station = await startBrowserMode({ dataDir, slots: 4, virtualBoards: 4, boardTransport: 'in-process', batchSize: 40, supervisorPin: PIN });
  mkdirSync('docs/screenshots', { recursive: true });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Tab from the top of the page to a control, then Enter. */
async function tabTo(page: Page, name: string | RegExp, role: 'button' | 'link' = 'button'): Promise<void> {
  const target = page.getByRole(role, { name, exact: typeof name === 'string' });
  await page.evaluate(() => (globalThis as unknown as PageWindow).document.activeElement?.blur());
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === (globalThis as unknown as PageWindow).document.activeElement).catch(() => false)) break;
  }
  await expect(target).toBeFocused();
}

async function goTo(page: Page, screen: 'Line' | 'QA' | 'Supervisor' | 'Settings'): Promise<void> {
  await tabTo(page, screen);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: screen, exact: true })).toHaveAttribute('aria-current', 'page');
}

test('every screen: named controls, Tab in reading order, visible focus rings', async ({ page }) => {
  await page.goto(station.url);
  for (let i = 1; i <= 4; i++) await expect(page.getByTestId(`slot-${i}`)).toHaveAttribute('data-state', 'detected');

  // Line, with the one-time product/batch step and four boards ready.
  const line = await expectKeyboardAccessible(page, 'Line');
  expect(line[0]!.what).toBe('button[nav-line]');
  expect(line.some((s) => s.what.includes('Slot 4: Ready'))).toBe(true);

  await goTo(page, 'QA');
  await expectKeyboardAccessible(page, 'QA');

  await goTo(page, 'Supervisor');
  await expect(page.getByLabel('Supervisor PIN')).toBeFocused();
  await expectKeyboardAccessible(page, 'Supervisor (locked)');
  await page.getByLabel('Supervisor PIN').focus();
  await page.keyboard.type(PIN);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('sync-panel')).toBeVisible();
  await expectKeyboardAccessible(page, 'Supervisor (unlocked)');

  await goTo(page, 'Settings');
  await expect(page.getByTestId('settings-lock')).toHaveText(/Locked|Unlocked/);
  if ((await page.getByTestId('settings-lock').textContent()) === 'Locked: viewing only') {
    await expectKeyboardAccessible(page, 'Settings (locked)');
    await page.getByLabel('Supervisor PIN').focus();
    await page.keyboard.type(PIN);
    await page.keyboard.press('Enter');
  }
  await expect(page.getByTestId('settings-lock')).toHaveText('Unlocked for changes');
  await expectKeyboardAccessible(page, 'Settings (unlocked)');

  // Station sounds off in Settings: the nav toggle must say so, not "Sound on" (it cannot turn them on).
  const sounds = page.getByLabel('Sounds on done and failure');
  await sounds.focus();
  await page.keyboard.press('Space');
  await expect(sounds).not.toBeChecked();
  await tabTo(page, 'Save settings');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('settings-message')).toContainText('Saved');
  const toggle = page.getByTestId('sound-toggle');
  await expect(toggle).toHaveText('Sound off (Settings)');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(toggle).toBeDisabled();
  await page.evaluate(() => (globalThis as unknown as PageWindow).scrollTo(0, 0));
  await page.screenshot({ path: 'docs/screenshots/novice-settings-sound-off.png' });
});

test('Settings locked is audited on a fresh page (no supervisor session)', async ({ page }) => {
  await page.goto(station.url);
  await goTo(page, 'Settings');
  await expect(page.getByTestId('settings-lock')).toHaveText('Locked: viewing only');
  await expectKeyboardAccessible(page, 'Settings (locked)');
  await goTo(page, 'Supervisor');
  await expectKeyboardAccessible(page, 'Supervisor (locked, fresh page)');
});

test('ten boards with the keyboard and a scanner alone', async ({ page }) => {
  await page.goto(station.url);
  const slot = (n: number) => page.getByTestId(`slot-${n}`);
  const act = async (n: number, button: string) => {
    await page.keyboard.press(String(n));
    await expect(slot(n)).toBeFocused();
    await expect(slot(n).getByRole('button').first()).toHaveText(button);
    await page.keyboard.press('Enter');
  };
  let done = 0;
  const rounds = [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2]];
  for (const [round, slots] of rounds.entries()) {
    for (const n of slots) {
      if (round > 0) {
        // The finished board comes out, a fresh one goes in.
        await act(n, 'Unplug');
        await expect(slot(n)).toHaveAttribute('data-state', 'empty');
        await act(n, 'Plug virtual board');
      }
      await expect(slot(n)).toHaveAttribute('data-state', 'detected');
      await act(n, 'Provision');
    }
    for (const n of slots) await expect(slot(n)).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 30_000 });
    await tabTo(page, /^Print \d+ new labels?$/);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('print-sheet')).toHaveText('All printed');
    for (let i = 0; i < slots.length; i++) {
      const asked = (await page.getByTestId('scan-bar').locator('label').textContent()) ?? '';
      const [, label, slotNumber] = /Scan label (\d+) for slot (\d+)/.exec(asked) ?? [];
      const row = station.db
        .prepare(`SELECT t.qr_token AS qrToken FROM labels l JOIN tokens t ON t.id = l.token_id WHERE l.position = ?`)
        .get(Number(label) - 1) as { qrToken: string };
      await page.keyboard.type(`${row.qrToken}+${station.product.orgId}`);
      await page.keyboard.press('Enter');
      await expect(slot(Number(slotNumber))).toHaveAttribute('data-state', 'done');
      done += 1;
    }
  }
  expect(done).toBe(10);
  await expect(page.getByTestId('shift-done').locator('.counter-value')).toHaveText('10');
  const states = station.db.prepare(`SELECT state, COUNT(*) AS n FROM tokens WHERE state <> 'available' GROUP BY state`).all();
  expect(states).toEqual([{ state: 'labelled', n: 10 }]);
});
