import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startBrowserMode, type BrowserModeStation } from '../../app/browser-mode.js';
import { FAILURE_SENTENCES } from '../../renderer/src/failure-sentences.js';
import type { PageWindow } from './support/browser-types.js';

/**
 * Issue 8's acceptance, from the operator's side: ten boards through a four-slot fixture by
 * keyboard and scanner alone, as a first-time operator would (slot key, Enter, Tab, scans), with two
 * boards failing on the way. Every step is read off the screen, never off the API.
 */

let station: BrowserModeStation;
let dataDir: string;
const SHOTS = 'docs/screenshots';

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flashline-e2e-novice-'));
  station = await startBrowserMode({ dataDir, slots: 4, virtualBoards: 4, boardTransport: 'in-process', batchSize: 40 });
  mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await station?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function slot(page: Page, n: number) {
  return page.getByTestId(`slot-${n}`);
}

/** The slot's number key focuses its card; Enter runs the card's main action. */
async function act(page: Page, n: number, expectedButton: string): Promise<void> {
  await page.keyboard.press(String(n));
  await expect(slot(page, n)).toBeFocused();
  // The main action the operator is about to run is the card's first button.
  await expect(slot(page, n).getByRole('button').first()).toHaveText(expectedButton);
  await page.keyboard.press('Enter');
}

/** The scanner types the label the scan bar asks for (its QR payload) and Enter. */
async function scanWaitingLabels(page: Page, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const asked = await page.getByTestId('scan-bar').locator('label').textContent();
    const match = /Scan label (\d+) for slot (\d+)/.exec(asked ?? '');
    expect(match, `scan bar says which label: "${asked}"`).not.toBeNull();
    const slotNumber = Number(match![2]);
    // The card shows the same label number and the QR's last characters the operator matches by eye.
    await expect(slot(page, slotNumber)).toContainText(`Label ${match![1]}`);
    const row = station.db
      .prepare(`SELECT t.qr_token AS qrToken FROM labels l JOIN tokens t ON t.id = l.token_id WHERE l.position = ? AND t.state = 'verified'`)
      .get(Number(match![1]) - 1) as { qrToken: string } | undefined;
    expect(row).toBeDefined();
    await page.keyboard.type(`${row!.qrToken}+${station.product.orgId}`);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('scan-outcome')).toHaveText(`Label confirmed for slot ${slotNumber}.`);
    await expect(slot(page, slotNumber)).toHaveAttribute('data-state', 'done');
  }
}

/** The labels asked for are not printed yet: the scan bar says so; Tab to the print button, Enter. */
async function printNewLabels(page: Page, count: number): Promise<void> {
  const button = page.getByTestId('print-sheet');
  await expect(page.getByTestId('scan-print-hint')).toContainText(`press “Print ${count} new label${count === 1 ? '' : 's'}” on the label sheet first.`);
  await expect(button).toHaveText(`Print ${count} new label${count === 1 ? '' : 's'}`);
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await button.evaluate((el) => el === (globalThis as unknown as PageWindow).document.activeElement)) break;
  }
  await expect(button).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(button).toHaveText('All printed');
  await expect(page.getByTestId('scan-print-hint')).toHaveCount(0);
}

/** A finished board comes out (Unplug, the main action of a done virtual board) and a fresh one goes in. */
async function nextBoard(page: Page, n: number): Promise<void> {
  await act(page, n, 'Unplug');
  await expect(slot(page, n)).toHaveAttribute('data-state', 'empty');
  await act(page, n, 'Plug virtual board');
  await expect(slot(page, n)).toHaveAttribute('data-state', 'detected');
}

/** A failed board is set aside: Tab from the card past "Check again" to Unplug, then a fresh board. */
async function replaceFailedBoard(page: Page, n: number): Promise<void> {
  await page.keyboard.press(String(n));
  await expect(slot(page, n)).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(slot(page, n).getByRole('button', { name: 'Check again' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(slot(page, n).getByRole('button', { name: 'Unplug' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(slot(page, n)).toHaveAttribute('data-state', 'empty');
  await act(page, n, 'Plug virtual board');
  await expect(slot(page, n)).toHaveAttribute('data-state', 'detected');
}

test('a first-time operator provisions ten boards, two failing, by keyboard and scanner alone', async ({ page }) => {
  await page.goto(station.url);
  for (let i = 1; i <= 4; i++) await expect(slot(page, i)).toHaveAttribute('data-state', 'detected');
  const availableAtStart = Number(await page.getByTestId('stock-available').locator('.counter-value').textContent());

  // The one-time product/batch step: Tab to "Start production", Enter.
  await expect(page.getByTestId('first-choice')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/novice-1-first-choice.png` });
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => (globalThis as unknown as PageWindow).document.activeElement?.textContent)) === 'Start production') break;
  }
  await expect(page.getByRole('button', { name: 'Start production' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('first-choice')).toHaveCount(0);
  await expect(slot(page, 1)).toContainText('Board detected: press Provision.');

  // Round 1, boards 1-4: board 2's cable comes out while it is written.
  station.rack.boardIn('slot-2')!.setFaults({ unplugAfterBytes: 200 });
  for (let i = 1; i <= 4; i++) await act(page, i, 'Provision');
  await expect(slot(page, 2)).toHaveAttribute('data-state', 'failed');
  await expect(slot(page, 2)).toHaveAttribute('aria-label', 'Slot 2: Failed');
  await expect(page.getByTestId('slot-2-next-step')).toHaveText(FAILURE_SENTENCES.CABLE_PULLED);
  await expect(page.getByTestId('slot-2-error')).toHaveAttribute('data-code', 'CABLE_PULLED');
  for (const i of [1, 3, 4]) await expect(slot(page, i)).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 30_000 });
  await expect(slot(page, 1)).toContainText(/Stick label 1 \(…\w{6}\) on this board, then scan it\./);
  await page.screenshot({ path: `${SHOTS}/novice-2-cable-pulled-and-scan.png` });
  await printNewLabels(page, 3);
  await scanWaitingLabels(page, 3);
  await expect(slot(page, 1)).toContainText("Label 1 is this board's: unplug it, box them together, plug in the next board.");
  await page.screenshot({ path: `${SHOTS}/novice-3-round-one-done.png` });

  // After the last scan the scan field still has focus: the slot keys must keep working from there.
  await expect(page.getByTestId('scan-input')).toBeFocused();
  await expect(page.getByTestId('scan-input')).toHaveValue('');

  // Round 2, boards 5-8: the failed board is set aside; board 7 keeps different bytes than written.
  for (const i of [1, 3, 4]) await nextBoard(page, i);
  await replaceFailedBoard(page, 2);
  station.rack.boardIn('slot-3')!.setFaults({ corruptBlock: { seq: 0, point: 'flash', times: 99 } });
  for (let i = 1; i <= 4; i++) await act(page, i, 'Provision');
  await expect(slot(page, 3)).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
  await expect(page.getByTestId('slot-3-next-step')).toHaveText(FAILURE_SENTENCES.FLASH_VERIFY_MISMATCH);
  await expect(page.getByTestId('slot-3-error')).toHaveAttribute('data-code', 'FLASH_VERIFY_MISMATCH');
  for (const i of [1, 2, 4]) await expect(slot(page, i)).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 30_000 });
  await page.screenshot({ path: `${SHOTS}/novice-4-verify-mismatch.png` });
  await printNewLabels(page, 3);
  await scanWaitingLabels(page, 3);

  // Round 3, boards 9-10 in slots 1 and 2.
  for (const i of [1, 2]) await nextBoard(page, i);
  for (const i of [1, 2]) await act(page, i, 'Provision');
  for (const i of [1, 2]) await expect(slot(page, i)).toHaveAttribute('data-state', 'awaiting-scan', { timeout: 30_000 });
  await printNewLabels(page, 2);
  await scanWaitingLabels(page, 2);
  await expect(page.getByTestId('scan-bar')).toContainText('Label confirmed for slot');

  // The counters a supervisor reads at the end of the run.
  const value = (id: string) => page.getByTestId(id).locator('.counter-value');
  await expect(value('shift-done')).toHaveText('8');
  await expect(value('shift-failed')).toHaveText('2');
  await expect(value('stock-labelled')).toHaveText('8');
  await expect(value('stock-failed')).toHaveText('2');
  await expect(value('stock-in-progress')).toHaveText('0');
  await expect(page.getByTestId('sheet-count')).toContainText('8');
  await page.screenshot({ path: `${SHOTS}/novice-5-ten-boards.png` });

  // The queue agrees: ten tokens left the stock, eight on labelled boards, two burned, none stuck.
  const states = Object.fromEntries(
    (station.db.prepare(`SELECT state, COUNT(*) AS n FROM tokens WHERE state <> 'available' GROUP BY state`).all() as { state: string; n: number }[]).map((r) => [r.state, r.n]),
  );
  expect(states).toEqual({ labelled: 8, failed: 2 });
  const burned = station.db.prepare(`SELECT failure_code AS code FROM tokens WHERE state = 'failed' ORDER BY id`).all() as { code: string }[];
  expect(burned.map((r) => r.code)).toEqual(['CABLE_PULLED', 'FLASH_VERIFY_MISMATCH']);
  const available = (station.db.prepare(`SELECT COUNT(*) AS n FROM tokens WHERE state = 'available'`).get() as { n: number }).n;
  await expect(value('stock-available')).toHaveText(String(available));
  // No batch was pulled during the run (40 in stock): the stock went down by exactly the ten used.
  expect(available).toBe(availableAtStart - 10);
});
