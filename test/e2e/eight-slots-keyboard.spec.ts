import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';

let station: BrowserModeStation;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e8-'));
  station = await startBrowserMode({ dataDir, slots: 8, virtualBoards: 8, boardTransport: 'in-process', batchSize: 40 });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a full 8-slot run by keyboard and scanner alone: keys 1-8 + Enter provision, scans confirm each label', async ({ page }) => {
  await page.goto(station.url);
  for (let i = 1; i <= 8; i++) await expect(page.getByTestId(`slot-${i}`)).toHaveAttribute('data-state', 'detected', { timeout: 30_000 });

  // No mouse: a slot's number key focuses its card, Enter runs its main action (Provision).
  for (let i = 1; i <= 8; i++) {
    await page.keyboard.press(String(i));
    await expect(page.getByTestId(`slot-${i}`)).toBeFocused();
    await page.keyboard.press('Enter');
  }
  for (let i = 1; i <= 8; i++) await expect(page.getByTestId(`slot-${i}`)).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 60_000 });

  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/eight-slots-awaiting-scan.png' });

  // The scanner types each label in the order the scan bar asks for; letters go to the scan field
  // wherever the focus is.
  const labels = station.db
    .prepare(`SELECT t.qr_token AS qrToken, l.position FROM labels l JOIN tokens t ON t.id = l.token_id ORDER BY l.position`)
    .all() as { qrToken: string; position: number }[];
  expect(labels).toHaveLength(8);
  for (const label of labels) {
    await expect(page.getByTestId('scan-bar')).toContainText(`Scan label ${label.position + 1} for slot`);
    await page.keyboard.type(`${label.qrToken}+${station.product.orgId}`);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('scan-outcome')).toHaveAttribute('data-kind', 'ok');
  }
  for (let i = 1; i <= 8; i++) await expect(page.getByTestId(`slot-${i}`)).toHaveAttribute('data-state', 'done');
  const states = station.db.prepare(`SELECT state, COUNT(*) AS n FROM tokens WHERE state <> 'available' GROUP BY state`).all();
  expect(states).toEqual([{ state: 'labelled', n: 8 }]);
  await page.screenshot({ path: 'docs/screenshots/eight-slots-done.png' });
});
