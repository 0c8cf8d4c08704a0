import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';

let station: BrowserModeStation;
let dataDir: string;
const PIN = '482913';

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-supervisor-'));
  station = await startBrowserMode({ dataDir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 20, supervisorPin: PIN });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('supervisor: PIN, sync now, pull a batch, void a token with confirmation, export CSV', async ({ page }) => {
  await page.goto(station.url);
  await expect(page.getByTestId('sync-summary')).toContainText(/records? waiting, last sync/);
  await page.getByRole('button', { name: 'Supervisor' }).click();

  // A wrong PIN is refused; the right one unlocks.
  await page.getByLabel('Supervisor PIN').fill('1111');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('supervisor-error')).toContainText(/wrong supervisor pin/i);
  await page.getByLabel('Supervisor PIN').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();

  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(/Synced: 0 records waiting/);
  await expect(page.getByTestId('sync-last')).toHaveText('just now');

  const before = station.queue.stock().available;
  await page.getByLabel('Tokens to pull').fill('7');
  await page.getByRole('button', { name: 'Pull batch' }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(/Pulled batch .*: 7 tokens/);
  expect(station.queue.stock().available).toBe(before + 7);
  await expect(page.getByTestId('batch-row')).toHaveCount(2);

  const victim = station.db.prepare("SELECT qr_token AS qr FROM tokens WHERE state = 'available' ORDER BY id DESC LIMIT 1").get() as { qr: string };
  await page.getByLabel('QR token (scan the label)').fill(`${victim.qr}+${station.product.orgId}`);
  await page.getByLabel('Reason for voiding', { exact: true }).fill('label torn');
  await page.getByRole('button', { name: 'Void token' }).click();
  await expect(page.getByTestId('void-confirm')).toBeVisible();
  await page.getByRole('button', { name: 'Confirm void' }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(/voided/);
  expect(station.queue.findByQrToken(victim.qr)?.state).toBe('voided');

  // The void waits in the outbox, then "Sync now" sends it to the cloud.
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-waiting')).toHaveText('0');
  const row = (await station.cloud.store.db.get<{ void_reason: string }>('SELECT void_reason FROM static_tokens WHERE qr_token = ?', [victim.qr]))!;
  expect(row.void_reason).toBe('voided');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export device records (CSV)' }).click();
  const file = await (await download).path();
  expect(readFileSync(file!, 'utf8').split('\r\n')[0]).toMatch(/^Record ID,QR Token,MAC/);
  await expect(page.getByTestId('chart-per-hour')).toBeVisible();
});
