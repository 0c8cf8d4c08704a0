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

test('supervisor tools: CSV pull (a bad row, then the fixed file), batch zip download, disclaim with typed confirmation, held records', async ({ page }) => {
  await page.goto(station.url);
  await page.getByRole('button', { name: 'Supervisor' }).click();
  await page.getByLabel('Supervisor PIN').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('held-none')).toBeVisible();

  // A file with a formula cell: the remap step shows the row, the column and why; nothing is pulled.
  const before = station.queue.stock().available;
  const batchesBefore = (station.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number }).n;
  const csvFile = (name: string, text: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.getByLabel('CSV file to pull from').setInputFiles(csvFile('line7.csv', 'serial,Manufacturing Batch\r\nSN-100,B9\r\n=cmd|calc,B9\r\n'));
  await expect(page.getByTestId('csv-pull-summary')).toHaveText('line7.csv: 2 rows → 2 tokens');
  // "serial" matches no template field: ignored until mapped; then only the row error is left.
  await expect(page.getByTestId('csv-pull-problems')).toContainText('No column fills the template field "Serial Number"');
  await page.getByLabel('Template field for column serial').selectOption('Serial Number');
  await expect(page.getByTestId('csv-row-error')).toHaveText(/^Row 3, column “serial”: starts with "=": a spreadsheet formula/);
  await expect(page.getByTestId('csv-pull-problems')).not.toContainText('No column fills');
  await expect(page.getByRole('button', { name: 'Pull 2 tokens from CSV' })).toBeDisabled();
  await page.screenshot({ path: 'docs/screenshots/supervisor.png', fullPage: true });
  expect(station.queue.stock().available).toBe(before);
  expect((station.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number }).n).toBe(batchesBefore);

  // The fixed file: every row fits, the supervisor confirms, the tokens land with their metadata.
  await page.getByLabel('CSV file to pull from').setInputFiles(csvFile('line7-fixed.csv', 'Serial Number,Manufacturing Batch,Note\r\nSN-100,B9,x\r\nSN-101,B9,y\r\nSN-102,B9,z\r\n'));
  await expect(page.getByTestId('csv-pull-ready')).toBeVisible();
  await expect(page.getByLabel('Template field for column Note')).toHaveValue('');
  await page.getByRole('button', { name: 'Pull 3 tokens from CSV' }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(/Pulled batch .* from line7-fixed.csv: 3 tokens/);
  expect(station.queue.stock().available).toBe(before + 3);
  const csvBatch = station.db.prepare('SELECT batch_id AS id FROM tokens WHERE metadata IS NOT NULL ORDER BY id DESC LIMIT 1').get() as { id: string };
  const serials = (station.db.prepare('SELECT metadata FROM tokens WHERE batch_id = ? ORDER BY id').all(csvBatch.id) as { metadata: string }[]).map(
    (r) => (JSON.parse(r.metadata) as Record<string, string>)['Serial Number'],
  );
  expect(serials).toEqual(['SN-100', 'SN-101', 'SN-102']);

  // Export: the label zip of that batch, without AuthTokens.
  await page.getByLabel('Batch to export').selectOption(csvBatch.id);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download batch zip' }).click();
  const zip = readFileSync((await (await download).path())!);
  expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  const tokens = station.db.prepare('SELECT id, qr_token AS qr FROM tokens WHERE batch_id = ?').all(csvBatch.id) as { id: number; qr: string }[];
  for (const t of tokens) {
    expect(zip.includes(Buffer.from(`qr/${t.qr}.png`))).toBe(true);
    expect(zip.includes(Buffer.from(station.queue.authTokenOf(t.id)))).toBe(false);
  }
  await expect(page.getByTestId('supervisor-message')).toContainText('3 QR codes (no AuthTokens)');

  // Disclaim: the confirm button waits for the same QR token typed (or scanned) again.
  const target = tokens[0]!.qr;
  await station.cloud.store.db.run("UPDATE static_tokens SET status = 'CLAIMED' WHERE qr_token = ?", [target]);
  await page.getByLabel('QR token to act on (scan the label)').fill(`${target}+${station.product.orgId}`);
  await page.getByRole('button', { name: 'Disclaim token…' }).click();
  await expect(page.getByTestId('cloud-confirm')).toBeVisible();
  await page.getByLabel('Repeat the QR token').fill(tokens[1]!.qr);
  await expect(page.getByRole('button', { name: 'Confirm disclaim' })).toBeDisabled();
  await page.getByLabel('Repeat the QR token').fill(target);
  await page.getByRole('button', { name: 'Confirm disclaim' }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(`Token …${target.slice(-6)} disclaimed in the cloud (now unclaimed)`);
  expect((await station.cloud.store.db.get<{ status: string }>('SELECT status FROM static_tokens WHERE qr_token = ?', [target]))!.status).toBe('UNCLAIMED');

  // A held record shows with the cloud's reason; release sends it again.
  const voided = station.queue.findByQrToken(tokens[2]!.qr)!;
  station.queue.void(voided.id, 'label torn');
  const row = station.queue.pendingOutbox().find((r) => r.recordId === `void:${tokens[2]!.qr}`)!;
  station.queue.holdOutbox(row.id, 'The cloud refused the request while sending voided and burned tokens (HTTP 422); call a supervisor.');
  station.sync.refresh();
  await expect(page.getByTestId('held-record')).toContainText('HTTP 422');
  await page.getByRole('button', { name: `Release record ${row.id} and send it again` }).click();
  await expect(page.getByTestId('supervisor-message')).toContainText(`Record #${row.id} released and sent again; 0 still held.`);
  await expect(page.getByTestId('held-none')).toBeVisible();

  // No AuthToken is ever on the page.
  const html = await page.content();
  for (const t of tokens) expect(html).not.toContain(station.queue.authTokenOf(t.id));
});
