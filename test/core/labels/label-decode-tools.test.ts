import { afterEach, describe, expect, it } from 'vitest';
import { buildLabelModel } from '../../../core/labels/label-model.js';
import { renderLabelSheetPdf } from '../../../core/labels/label-sheet-pdf.js';
import { assertLabelToolsInstalled, decodeLabelPdf, extractPdfText } from '../../support/label-decode.js';

/**
 * The decode helper must fail loudly, naming the Debian packages, when poppler-utils or zbar-tools
 * is missing: label tests never skip. PATH is emptied so no tool can be found.
 */
describe('label decode helper without its tools', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('names poppler-utils and zbar-tools instead of skipping', async () => {
    const label = buildLabelModel({ qrToken: 'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR', orgId: 1, productName: 'P', serial: 'S1' });
    const pdf = await renderLabelSheetPdf([label], 'a4-3x8');
    process.env.PATH = '/nonexistent';
    // One at a time: started together, the later rejections would go unhandled while we await the first.
    for (const attempt of [() => assertLabelToolsInstalled(), () => decodeLabelPdf(pdf, 'a4-3x8'), () => extractPdfText(pdf)]) {
      const err = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/not installed/);
      expect((err as Error).message).toContain('poppler-utils');
      expect((err as Error).message).toContain('zbar-tools');
    }
  });

  it('works again with the tools on PATH', async () => {
    await expect(assertLabelToolsInstalled()).resolves.toBeUndefined();
  });
});
