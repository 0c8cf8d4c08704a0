import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';
import { findNvsString } from '../../native/nvs/nvs-reader.js';
import { decodeLabelPdf, extractPdfText } from '../support/label-decode.js';

let station: BrowserModeStation;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-'));
  // Boards on pseudo-terminals: the flash goes through the real serialport package.
  station = await startBrowserMode({ dataDir, slots: 2, virtualBoards: 0, boardTransport: 'pty', batchSize: 20 });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('one board from plug to label: token labelled, token in flash, QR on the sheet, no AuthToken anywhere', async ({ page, request }) => {
  await page.goto(station.url);
  const slot = page.getByTestId('slot-1');
  await expect(slot).toHaveAttribute('data-state', 'empty');

  await slot.getByRole('button', { name: /plug virtual board/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'detected');
  await slot.getByRole('button', { name: /provision/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 60_000 });

  const sealedRow = station.db
    .prepare(`SELECT id, qr_token AS qrToken, state, label_sheet_id AS sheetId FROM tokens WHERE slot_id = 'slot-1'`)
    .get() as { id: number; qrToken: string; state: string; sheetId: string };
  // AuthTokens are sealed at rest: the queue opens them.
  const row = { ...sealedRow, authToken: station.queue.authTokenOf(sealedRow.id) };
  // Passed, label on the sheet, but not `labelled` until the label is scanned back.
  expect(row.state).toBe('verified');

  // Scan-back: a USB scanner types into the focused scan field. A wrong label first: refused, loud.
  const scan = page.getByTestId('scan-input');
  await expect(scan).toBeFocused();
  await page.keyboard.type(`sqr_${'x'.repeat(32)}+${station.product.orgId}\n`);
  await expect(page.getByTestId('scan-outcome')).toHaveAttribute('data-kind', 'wrong');
  await expect(slot).toHaveAttribute('data-state', 'awaiting-scan');
  await expect(slot).toContainText(/wrong label/i);
  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/scan-mismatch.png' });
  await scan.focus();
  await page.keyboard.type(`${row.qrToken}+${station.product.orgId}\n`);
  await expect(slot).toHaveAttribute('data-state', 'done');

  // The token's state is `labelled`.
  const labelled = station.db.prepare('SELECT state FROM tokens WHERE id = ?').get(row.id) as { state: string };
  expect(labelled.state).toBe('labelled');

  // The bytes in the virtual board's flash hold that token, read the way the firmware reads it.
  const board = station.rack.boardIn('slot-1');
  expect(board).toBeTruthy();
  const nvs = board!.readFlash(station.product.nvs.offset, station.product.nvs.size);
  expect(findNvsString(nvs, 'blynk', 'auth')).toBe(row.authToken);

  // The label PDF carries that token's QR payload, and nowhere the AuthToken.
  const snapshot = await station.service.call('getSnapshot', {});
  const pdfUrl = snapshot.sheet?.pdfUrl;
  expect(pdfUrl).toBeTruthy();
  const key = new URL(station.url).searchParams.get('key')!;
  const res = await request.get(new URL(`${pdfUrl}?key=${encodeURIComponent(key)}`, station.url).toString());
  expect(res.status()).toBe(200);
  const pdf = await res.body();
  const labels = await decodeLabelPdf(pdf, station.product.labelStockId);
  const decoded = labels.filter((l) => l.payload !== null);
  expect(decoded).toEqual([expect.objectContaining({ page: 1, position: 0, payload: `${row.qrToken}+${station.product.orgId}` })]);
  const text = await extractPdfText(pdf);
  expect(text).not.toContain(row.authToken);
  expect(pdf.includes(Buffer.from(row.authToken))).toBe(false);
  for (const label of labels) expect(label.payload ?? '').not.toContain(row.authToken);

  // Nor in the UI.
  expect(await page.content()).not.toContain(row.authToken);

  // Print the sheet (no CUPS printer named: saved as a PDF into the data folder), then the
  // button has nothing new to print.
  await page.getByTestId('print-sheet').click();
  await expect(page.getByTestId('last-print')).toContainText(/Printed 1 label/);
  await expect(page.getByTestId('print-sheet')).toBeDisabled();
  expect(readdirSync(join(dataDir, 'printed')).filter((f) => f.endsWith('.pdf'))).toHaveLength(1);

  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/station.png', fullPage: true });
  writeFileSync(join(dataDir, 'done'), '');
});
