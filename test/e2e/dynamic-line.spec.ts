import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';

let station: BrowserModeStation;
let dataDir: string;
const PIN = '481620';
const RUN_MS = 60_000;

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-dynamic-'));
  station = await startBrowserMode({ dataDir, slots: 2, virtualBoards: 0, boardTransport: 'in-process', batchSize: 10, supervisorPin: PIN });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A dynamic-token product on the line: a supervisor chooses the Wi-Fi lamp in Settings; boards are
 * flashed with the shared firmware, come online with a test provisioning token, are factory-reset,
 * and are done with no token and no label; a board that fails QA fails with one sentence.
 */
test('dynamic line: choose the Wi-Fi lamp in Settings, two boards done, one failure, no labels, no stock warning', async ({ page }) => {
  await page.goto(station.url);
  // The first-time step with the default static product: 10 tokens are below its low-stock mark.
  await page.getByTestId('first-choice').getByRole('button', { name: 'Start production' }).click();
  await expect(page.getByTestId('low-stock')).toBeVisible();
  const availableBefore = station.queue.stock().available;

  // Settings: unlock with the supervisor PIN, choose the Wi-Fi lamp.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Supervisor PIN').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('settings-lock')).toHaveText('Unlocked for changes');
  await page.getByLabel('Product', { exact: true }).selectOption('demo-wifi-lamp');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('settings-message')).toHaveText('Saved: product.');
  await expect(page.getByTestId('product-name')).toHaveText('Demo Wi-Fi Lamp');

  // The line: the stock warning is gone (a dynamic product uses no tokens).
  await page.getByRole('button', { name: 'Line' }).click();
  await expect(page.getByTestId('low-stock')).toHaveCount(0);
  await expect(page.getByTestId('stock-available')).toHaveCount(0);

  for (const n of [1, 2]) {
    const slot = page.getByTestId(`slot-${n}`);
    await slot.getByRole('button', { name: /plug virtual board/i }).click();
    await expect(slot).toHaveAttribute('data-state', 'detected');
    await slot.getByRole('button', { name: /provision/i }).click();
  }
  for (const n of [1, 2]) {
    const slot = page.getByTestId(`slot-${n}`);
    await expect(slot).toHaveAttribute('data-state', 'done', { timeout: RUN_MS });
    // No token and no label on a dynamic board's card.
    await expect(page.getByTestId(`slot-${n}-qr`)).toHaveCount(0);
    await expect(slot.locator('.label-number')).toHaveCount(0);
    await expect(slot).toContainText('factory-reset');
  }
  await expect(page.getByTestId('shift-done')).toContainText('2');
  // No label sheet at all on a dynamic line.
  await expect(page.getByTestId('label-sheet')).toHaveCount(0);
  // Nor a token stock: the header says where the tokens come from instead.
  await expect(page.getByTestId('stock-available')).toHaveCount(0);
  await expect(page.getByTestId('token-kind')).toHaveText("from the customer's app");
  await expect(page.getByTestId('low-stock')).toHaveCount(0);
  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/dynamic-line.png', fullPage: true });

  // A third board, one that cannot join the QA network: it fails with the run's sentence, erased.
  const slot1 = page.getByTestId('slot-1');
  await slot1.getByRole('button', { name: 'Unplug' }).click();
  await expect(slot1).toHaveAttribute('data-state', 'empty');
  await slot1.getByRole('button', { name: /plug virtual board/i }).click();
  await expect(slot1).toHaveAttribute('data-state', 'detected');
  const board = station.rack.boardIn('slot-1')!;
  board.setAppBehaviour({ networks: [{ ssid: 'Elsewhere', rssi: -70 }] });
  await slot1.getByRole('button', { name: /provision/i }).click();
  await expect(slot1).toHaveAttribute('data-state', 'failed', { timeout: RUN_MS });
  await expect(page.getByTestId('slot-1-error')).toHaveAttribute('data-code', 'QA_FAILED');
  await expect(page.getByTestId('slot-1-error')).toContainText(/Dynamic QA step "wifi_provision" failed: .*could not join the Wi-Fi network/);
  expect(board.storedWifi).toBeNull();
  await expect(page.getByTestId('shift-failed')).toContainText('1');
  await page.screenshot({ path: 'docs/screenshots/dynamic-line-failed.png', fullPage: true });

  // Nothing of the token queue was touched: no token reserved, pulled or labelled, no label placed.
  expect(station.queue.stock()).toMatchObject({ available: availableBefore, reserved: 0, labelled: 0, failed: 0 });
  expect(station.db.prepare('SELECT COUNT(*) AS n FROM labels').get()).toEqual({ n: 0 });
  const runs = station.db.prepare("SELECT ok FROM test_runs WHERE kind = 'dynamic' ORDER BY id").all();
  expect(runs).toEqual([{ ok: 1 }, { ok: 1 }, { ok: 0 }]);

  // QA finds the board's history by its slot.
  await page.getByRole('button', { name: 'QA' }).click();
  await page.getByTestId('qa-scan-input').fill('slot-2');
  await page.getByTestId('qa-scan-input').press('Enter');
  await expect(page.getByTestId('qa-dynamic-mac')).toHaveText(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  await expect(page.getByTestId('qa-run')).toHaveCount(1);
  await expect(page.getByTestId('qa-run').first()).toHaveAttribute('data-ok', 'true');
});
