/**
 * How fast label sheets render: 1,000 labels to one PDF per stock, after a warm-up run, median of
 * three. Run with `npx tsx bench/label-sheet.bench.ts`. Not a test: numbers depend on the machine.
 */
import { performance } from 'node:perf_hooks';
import { buildLabelModel, type LabelModel } from '../core/labels/label-model.js';
import { renderLabelSheetPdf } from '../core/labels/label-sheet-pdf.js';
import { getLabelStock, labelsPerPage, listLabelStocks } from '../core/labels/label-stock.js';

const LABELS = 1_000;
const RUNS = 3;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function qrToken(i: number): string {
  let x = (i + 1) * 2_654_435_761;
  let body = '';
  for (let k = 0; k < 32; k++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    body += ALPHABET[x % 64];
  }
  return `sqr_${body}`;
}

const labels: LabelModel[] = Array.from({ length: LABELS }, (_, i) =>
  buildLabelModel({
    qrToken: qrToken(i),
    orgId: 4821,
    productName: 'Smart Plug Mini',
    serial: `FL-2026-${String(i + 1).padStart(6, '0')}`,
    mac: `24:0A:C4:00:${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')}`,
  }),
);

async function timeOnce(stockId: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const pdf = await renderLabelSheetPdf(labels, stockId, { creationDate: new Date(0) });
  return { ms: performance.now() - t0, bytes: pdf.length };
}

for (const stock of listLabelStocks()) {
  await timeOnce(stock.id);
  const runs: { ms: number; bytes: number }[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await timeOnce(stock.id));
  runs.sort((a, b) => a.ms - b.ms);
  const median = runs[Math.floor(RUNS / 2)]!;
  const pages = Math.ceil(LABELS / labelsPerPage(getLabelStock(stock.id)));
  console.log(
    `${stock.id.padEnd(14)} ${LABELS} labels, ${pages} pages: ${median.ms.toFixed(0)} ms, ` +
      `${Math.round((LABELS / median.ms) * 1000)} labels/s, ${(median.bytes / 1024).toFixed(0)} KiB`,
  );
}
