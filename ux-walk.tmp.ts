// Exploratory novice walk (temporary; not committed).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startBrowserMode } from './app/browser-mode.js';

const shots = '/tmp/ux-shots';
let n = 0;
const dataDir = mkdtempSync(join(tmpdir(), 'ux-data-'));
const station = await startBrowserMode({ dataDir, slots: 4, virtualBoards: 4, boardTransport: 'in-process', batchSize: 20, supervisorPin: '246810' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const snap = async (name: string) => { await page.screenshot({ path: `${shots}/${String(++n).padStart(2, '0')}-${name}.png` }); console.log('shot', n, name); };
const states = async () => page.evaluate(() => [...document.querySelectorAll('[data-testid^="slot-"][data-state]')].map((e) => `${e.getAttribute('data-testid')}=${e.getAttribute('data-state')}`).join(' '));
const active = async () => page.evaluate(() => { const a = document.activeElement as HTMLElement; return `${a.tagName} ${a.getAttribute('aria-label') ?? a.textContent?.slice(0, 30)}`; });
const waitState = async (slot: number, state: string, t = 30000) => page.locator(`[data-testid="slot-${slot}"][data-state="${state}"]`).waitFor({ timeout: t });
const scanAll = async () => {
  const rows = station.db.prepare(`SELECT t.qr_token AS q, l.position AS p FROM labels l JOIN tokens t ON t.id = l.token_id WHERE t.state = 'verified' ORDER BY l.position`).all() as { q: string; p: number }[];
  for (const r of rows) { await page.keyboard.type(`${r.q}+${station.product.orgId}`); await page.keyboard.press('Enter'); await page.waitForTimeout(300); }
};
await page.goto(station.url);
await waitState(4, 'detected');
// novice presses 1, Enter without "Start production"
await page.keyboard.press('1'); await page.keyboard.press('Enter');
await page.waitForTimeout(1500);
console.log('after 1+Enter w/o start:', await states());
await snap('provision-before-start');
// Fault on slot 2: cable pulled
station.rack.boardIn('slot-2')!.setFaults({ unplugAfterBytes: 200 });
for (const k of ['2', '3', '4']) { await page.keyboard.press(k); await page.keyboard.press('Enter'); }
await page.waitForTimeout(400);
await snap('round1-working');
await page.waitForTimeout(5000);
console.log(await states());
await snap('round1-after');
console.log('active', await active());
await scanAll();
await page.waitForTimeout(800);
console.log(await states());
await snap('round1-scanned');
// wrong scan attempt: scan the label of a done board again
await page.keyboard.type('sqr_garbage+' + station.product.orgId); await page.keyboard.press('Enter');
await page.waitForTimeout(800);
await snap('bad-scan');
// Next board on slot 1 (Enter on focused card)
await page.keyboard.press('1'); await page.keyboard.press('Enter');
await page.waitForTimeout(1500);
console.log('after next board slot1:', await states());
await snap('slot1-next-board');
await page.keyboard.press('2'); await page.keyboard.press('Enter');
await page.waitForTimeout(1500);
console.log('after clear slot2:', await states());
await snap('slot2-cleared');
await page.keyboard.press('Tab');
console.log('active after tab', await active());
await browser.close();
await station.close();
