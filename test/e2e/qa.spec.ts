import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';

let station: BrowserModeStation;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-qa-'));
  station = await startBrowserMode({ dataDir, slots: 2, virtualBoards: 0, boardTransport: 'pty', batchSize: 20 });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('QA: scan a provisioned board\'s label, see its history, re-test it, pass, ship it', async ({ page }) => {
  await page.goto(station.url);
  // Provision one board on the Line screen: plug, Provision, scan its label back.
  const slot = page.getByTestId('slot-1');
  await slot.getByRole('button', { name: /plug virtual board/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'detected');
  await slot.getByRole('button', { name: /provision/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 60_000 });
  const row = station.db.prepare(`SELECT id, qr_token AS qrToken FROM tokens WHERE slot_id = 'slot-1'`).get() as { id: number; qrToken: string };
  const authToken = await station.service.call('getSnapshot', {}).then(() => station.queue.authTokenOf(row.id));
  const labelPayload = `${row.qrToken}+${station.product.orgId}`;
  await expect(page.getByTestId('scan-input')).toBeFocused();
  await page.keyboard.type(`${labelPayload}\n`);
  await expect(slot).toHaveAttribute('data-state', 'done');

  // QA screen: the scanner types the label into the focused field.
  await page.getByTestId('nav-qa').click();
  await expect(page.getByTestId('qa-scan-input')).toBeFocused();
  // A static-token product has no Dynamic QA to offer.
  await expect(page.getByTestId('dynamic-qa')).toHaveCount(0);
  await page.keyboard.type(`${labelPayload}\n`);
  const history = page.getByTestId('qa-history');
  await expect(history).toBeVisible();
  await expect(page.getByTestId('qa-qr')).toHaveText(row.qrToken);
  await expect(page.getByTestId('qa-token-state')).toHaveText('labelled');
  // The provisioning run is there, with its checks, and the audit trail of the token.
  await expect(page.getByTestId('qa-run')).toHaveCount(1);
  await expect(page.getByTestId('qa-run').first()).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('qa-run').first()).toContainText('heap');
  await expect(page.getByTestId('qa-audit')).toContainText('labelled');
  await expect(page.getByTestId('qa-verdict')).toHaveAttribute('data-ok', 'true');

  // Re-test: the board proves its token again; a second run is recorded; PASS, big.
  await page.getByTestId('qa-retest').click();
  await expect(page.getByTestId('qa-run')).toHaveCount(2, { timeout: 30_000 });
  await expect(page.getByTestId('qa-verdict')).toHaveText('PASS');
  mkdirSync('docs/screenshots', { recursive: true });
  await page.screenshot({ path: 'docs/screenshots/qa.png', fullPage: true });
  // A scan while focus sits elsewhere on the QA screen (here the nav) still lands in the QA field
  // and looks the board up (the field empties after a lookup).
  await page.getByTestId('nav-qa').focus();
  await page.keyboard.type(`${labelPayload}\n`);
  await expect(page.getByTestId('qa-scan-input')).toBeFocused();
  await expect(page.getByTestId('qa-scan-input')).toHaveValue('');
  await expect(page.getByTestId('qa-qr')).toHaveText(row.qrToken);
  const runs = station.db.prepare('SELECT kind, ok FROM test_runs WHERE token_id = ? ORDER BY id').all(row.id);
  expect(runs).toEqual([
    { kind: 'provision', ok: 1 },
    { kind: 'retest', ok: 1 },
  ]);

  // Ship: only now (labelled, latest run passed) does the token become shipped.
  await page.getByTestId('qa-ship').click();
  await expect(page.getByTestId('qa-token-state')).toHaveText('shipped');
  expect((station.db.prepare('SELECT state FROM tokens WHERE id = ?').get(row.id) as { state: string }).state).toBe('shipped');

  // Never the AuthToken: not in the page, not in any stored test run.
  expect(await page.content()).not.toContain(authToken);
  const stored = station.db.prepare('SELECT checks, log, reason FROM test_runs').all();
  expect(JSON.stringify(stored)).not.toContain(authToken);
});

test('QA: a board that fails its re-test shows FAIL with the reason and cannot ship', async ({ page }) => {
  await page.goto(station.url);
  const slot = page.getByTestId('slot-2');
  await slot.getByRole('button', { name: /plug virtual board/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'detected');
  await slot.getByRole('button', { name: /provision/i }).click();
  await expect(slot).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 60_000 });
  const row = station.db.prepare(`SELECT id, qr_token AS qrToken FROM tokens WHERE slot_id = 'slot-2'`).get() as { id: number; qrToken: string };
  await page.keyboard.type(`${row.qrToken}+${station.product.orgId}\n`);
  await expect(slot).toHaveAttribute('data-state', 'done');

  // The board's free heap drops below the plan's limit (a leak after burn-in, say).
  station.rack.boardIn('slot-2')!.setAppBehaviour({ heapFree: 12_000 });
  await page.getByTestId('nav-qa').click();
  await page.getByTestId('qa-scan-input').fill('slot-2');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qa-qr')).toHaveText(row.qrToken);
  await page.getByTestId('qa-retest').click();
  await expect(page.getByTestId('qa-verdict')).toHaveAttribute('data-ok', 'false', { timeout: 30_000 });
  await expect(page.getByTestId('qa-verdict')).toContainText('free heap" reported 12000, below the minimum 60000');
  await expect(page.getByTestId('qa-ship')).toBeDisabled();
  await expect(station.service.call('shipToken', { code: row.qrToken })).rejects.toThrow(/latest test failed/);
});

test('QA: dynamic QA of a Wi-Fi product board — provisioned, online, erased, from the QA screen', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-e2e-qa-dynamic-'));
  const lamp = await startBrowserMode({ dataDir: dir, slots: 1, virtualBoards: 1, boardTransport: 'pty', batchSize: 5, productId: 'demo-wifi-lamp' });
  try {
    await page.goto(lamp.url);
    await expect(page.getByTestId('slot-1')).toHaveAttribute('data-state', 'detected', { timeout: 30_000 });
    await page.getByTestId('nav-qa').click();
    const panel = page.getByTestId('dynamic-qa');
    await expect(panel.getByLabel('Board in')).toHaveValue('slot-1');
    await panel.getByRole('button', { name: 'Run dynamic QA' }).click();
    const verdict = page.getByTestId('dynamic-qa-verdict');
    await expect(verdict).toHaveAttribute('data-ok', 'true', { timeout: 30_000 });
    await expect(verdict).toHaveText('PASS — erased, ready to pack');
    await expect(panel.getByTestId('qa-run')).toContainText('cloud_online');
    await expect(panel.getByTestId('qa-run')).toContainText('cloud_removed');
    await page.screenshot({ path: 'docs/screenshots/qa-dynamic.png', fullPage: true });
    const board = lamp.rack.boardIn('slot-1')!;
    expect(board.storedWifi).toBeNull();
    expect(board.cloudOnline).toBe(false);
    expect(lamp.db.prepare("SELECT kind, ok FROM test_runs").all()).toEqual([{ kind: 'dynamic', ok: 1 }]);
  } finally {
    await lamp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
