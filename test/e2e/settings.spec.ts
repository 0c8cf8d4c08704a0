import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';
import { SECOND_PRODUCT, writeExtraProducts } from '../support/extra-products.js';

let station: BrowserModeStation;
let dataDir: string;
const PIN = '730516';

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-settings-'));
  // A second product and a broken manifest in the data folder's products/.
  writeExtraProducts(dataDir);
  station = await startBrowserMode({ dataDir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 10, supervisorPin: PIN });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('settings: first choice at the line, locked view, PIN, switch product and batch, the next board uses them', async ({ page }) => {
  await page.goto(station.url);
  const firstBatch = (await station.call('getSettings', {})).batches[0]!.id;

  // The one-time step: the line picks product and batch (no PIN needed the first time).
  const step = page.getByTestId('first-choice');
  await expect(step).toBeVisible();
  await expect(step.getByLabel('Product', { exact: true })).toHaveValue('demo-thermostat');
  await expect(step.getByLabel('Batch', { exact: true })).toHaveValue(firstBatch);
  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/first-choice.png' });
  await step.getByRole('button', { name: 'Start production' }).click();
  await expect(step).toHaveCount(0);
  await expect(page.getByTestId('batch-id')).toHaveText(firstBatch);

  // A supervisor pulled a second batch meanwhile.
  const { session } = await station.call('supervisorLogin', { pin: PIN });
  const second = await station.call('pullBatch', { session, count: 5 });

  // Locked: everything visible, nothing changeable; the broken manifest is listed with its error.
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('settings-lock')).toHaveText('Locked: viewing only');
  await expect(page.getByLabel('Product', { exact: true })).toBeDisabled();
  await expect(page.getByLabel('Product', { exact: true })).toHaveValue('demo-thermostat');
  await expect(page.getByLabel('Auto-run on plug')).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Save settings' })).toHaveCount(0);
  await expect(page.locator('[data-testid="product-row"][data-product="broken-gadget"]')).toContainText('missing-app.bin');
  await expect(page.getByTestId('settings-batch-row')).toHaveCount(2);
  await expect(page.getByTestId('settings-slots')).toHaveText('1');

  // Unlock with the PIN (a wrong one first).
  await page.getByLabel('Supervisor PIN').fill('1111');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('supervisor-error')).toContainText(/wrong supervisor pin/i);
  await page.getByLabel('Supervisor PIN').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('settings-lock')).toHaveText('Unlocked for changes');

  // Switch product and batch.
  await page.getByLabel('Product', { exact: true }).selectOption(SECOND_PRODUCT.id);
  await page.getByLabel('Batch', { exact: true }).selectOption(second.batchId);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('settings-message')).toHaveText('Saved: product, batch.');
  await expect(page.getByTestId('product-name')).toHaveText(SECOND_PRODUCT.name);
  await expect(page.getByTestId('batch-id')).toHaveText(second.batchId);
  await expect(page.getByLabel('Label stock')).toHaveValue('');
  await expect(page.getByLabel('Label stock').locator('option').first()).toHaveText(`The product's own (${SECOND_PRODUCT.labelStock})`);
  await page.screenshot({ path: 'docs/screenshots/settings.png', fullPage: true });
  const audit = station.db.prepare("SELECT detail FROM audit_log WHERE event = 'setting-changed' AND detail LIKE '%by supervisor'").all() as { detail: string }[];
  expect(audit.map((a) => a.detail.split(':')[0])).toEqual(['productId', 'batchId']);

  // Run a board at the line: its token comes from the chosen batch, its label from the new product.
  await page.getByRole('button', { name: 'Line' }).click();
  const slot = page.getByTestId('slot-1');
  await slot.getByRole('button', { name: /plug virtual board/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'detected');
  await slot.getByRole('button', { name: /provision/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 60_000 });
  const token = station.db.prepare(`SELECT id, batch_id AS batchId, qr_token AS qrToken, label_sheet_id AS sheet FROM tokens WHERE slot_id = 'slot-1'`).get() as { id: number; batchId: string; qrToken: string; sheet: string | null };
  expect(token.batchId).toBe(second.batchId);
  await page.keyboard.type(`${token.qrToken}+${station.product.orgId}\n`);
  await expect(slot).toHaveAttribute('data-state', 'done');
  // The new product's stock: Letter, 30 labels a sheet.
  await expect(page.getByTestId('sheet-count')).toContainText('30');
  const sheet = station.db.prepare('SELECT s.stock_id AS stock FROM labels l JOIN sheets s ON s.id = l.sheet_id WHERE l.token_id = ?').get(token.id) as { stock: string };
  expect(sheet.stock).toBe(SECOND_PRODUCT.labelStock);
  expect(await page.content()).not.toContain(station.queue.authTokenOf(token.id));
});
