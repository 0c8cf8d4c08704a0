import { describe, expect, it } from 'vitest';
import { buildLabelModel } from '../../../core/labels/label-model.js';
import { renderLabelSheetPdf } from '../../../core/labels/label-sheet-pdf.js';

const FIXED_DATE = new Date('2026-11-22T08:00:00Z');

function labels(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) =>
    buildLabelModel({
      qrToken: `sqr_${prefix}${String(i).padStart(28 - prefix.length, '0')}`,
      orgId: 4821,
      productName: 'Smart Plug Mini',
      serial: `FL-2026-${String(i + 1).padStart(6, '0')}`,
      mac: `24:0A:C4:00:00:${String(i).padStart(2, '0')}`,
    }),
  );
}

describe('label sheet rendering on a shared event loop', () => {
  it('draws one label per task: a timer set before a full sheet fires while it renders', async () => {
    const sheet = labels(24, 'yield');
    const events: string[] = [];
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        events.push('timer');
        resolve();
      }, 0),
    );
    const pdf = renderLabelSheetPdf(sheet, 'a4-3x8', { creationDate: FIXED_DATE }).then((b) => {
      events.push('pdf');
      return b;
    });
    await Promise.all([timer, pdf]);
    // Rendered in one synchronous run, the PDF would be done before the timer got its turn.
    expect(events).toEqual(['timer', 'pdf']);
  });

  it('a sheet drawn again (QR symbols from the cache) is the same PDF byte for byte', async () => {
    const sheet = labels(24, 'same');
    const first = await renderLabelSheetPdf(sheet, 'a4-3x8', { creationDate: FIXED_DATE });
    const again = await renderLabelSheetPdf(sheet, 'a4-3x8', { creationDate: FIXED_DATE });
    expect(again.equals(first)).toBe(true);
    // The cache is per payload: another sheet's labels give another PDF.
    const other = await renderLabelSheetPdf(labels(24, 'other'), 'a4-3x8', { creationDate: FIXED_DATE });
    expect(other.equals(first)).toBe(false);
  });
});
