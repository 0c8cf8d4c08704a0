/**
 * Labels for a 1,000-label batch: PDF and ZPL rendering time per label, and the QR decode rate of
 * rendered A4 sheets read back the way a scanner would (300 dpi raster, each label cropped, zbarimg).
 * Run with `npx tsx bench/labels.bench.ts`. Not a test: the times depend on the machine; the
 * ratios (ZPL vs PDF, decoded vs printed) are what to compare between runs.
 */
import { performance } from 'node:perf_hooks';
import { buildLabelModel, type LabelModel } from '../core/labels/label-model.js';
import { renderLabelSheetPdf } from '../core/labels/label-sheet-pdf.js';
import { renderLabelZpl, type ZplDpi } from '../core/labels/label-zpl.js';
import { decodeLabelPdf } from '../test/support/label-decode.js';

const LABELS = 1_000;
const RUNS = 3;
/** Sheets decoded for the decode rate: 5 × 24 = 120 labels, a few seconds of zbarimg. */
const DECODE_SHEETS = 5;
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

async function median(fn: () => Promise<number> | number): Promise<{ ms: number; size: number }> {
  await fn(); // warm-up: module loading, font metrics, JIT
  const runs: { ms: number; size: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const size = await fn();
    runs.push({ ms: performance.now() - t0, size });
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(RUNS / 2)]!;
}

const rows: { what: string; ms: number; size: number }[] = [];
for (const stockId of ['a4-3x8', 'roll-62x29', 'thermal-2x1in']) {
  const r = await median(async () => (await renderLabelSheetPdf(labels, stockId, { creationDate: new Date(0) })).length);
  rows.push({ what: `PDF  ${stockId}`, ...r });
}
for (const stockId of ['roll-62x29', 'thermal-2x1in']) {
  for (const dpi of [203, 300] as ZplDpi[]) {
    const r = await median(() => renderLabelZpl(labels, stockId, { dpi }).length);
    rows.push({ what: `ZPL  ${stockId} @${dpi}`, ...r });
  }
}
console.log(`Rendering ${LABELS} labels (median of ${RUNS} after a warm-up):`);
const pdfA4 = rows[0]!.ms;
for (const r of rows) {
  console.log(
    `  ${r.what.padEnd(26)} ${r.ms.toFixed(0).padStart(6)} ms  ${((r.ms * 1000) / LABELS).toFixed(0).padStart(5)} µs/label  ` +
      `${(r.size / 1024).toFixed(0).padStart(5)} KiB  ${(pdfA4 / r.ms).toFixed(1).padStart(6)}× the A4 PDF speed`,
  );
}

const sample = labels.slice(0, DECODE_SHEETS * 24);
const pdf = await renderLabelSheetPdf(sample, 'a4-3x8', { creationDate: new Date(0) });
const t0 = performance.now();
const cells = await decodeLabelPdf(pdf, 'a4-3x8');
const decodeMs = performance.now() - t0;
const decoded = cells.filter((c, i) => c.payload !== null && c.payload === sample[i]?.qrPayload).length;
const wrong = cells.filter((c, i) => c.payload !== null && c.payload !== sample[i]?.qrPayload).length;
console.log(
  `\nDecode, A4 3x8 at 300 dpi, ${DECODE_SHEETS} sheets: ${decoded}/${sample.length} labels decoded ` +
    `(${((decoded / sample.length) * 100).toFixed(1)} %), ${wrong} wrong, ${(decodeMs / sample.length).toFixed(0)} ms/label ` +
    `(rasterise + crop + zbarimg).`,
);
