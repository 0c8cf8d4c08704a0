import { zipSync, type Zippable } from 'fflate';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { csvLine } from '../csv/csv.js';
import type { TemplateRow } from '../store/org-store.js';
import type { StaticTokenRow } from '../store/static-token-store.js';
import { qrPng } from './qr-png.js';

/** Tokens rendered between two yields to the event loop, so a large export does not stall other requests. */
const TOKENS_PER_TURN = 25;
/** The CSV compresses well; PNGs are deflated already, so they are stored. */
const CSV_DEFLATE_LEVEL = 6;

/** What a template's QR label encodes for one token (Blynk's apps accept `{qrToken}+{orgId}`). */
export function qrPayload(format: string, token: { qrToken: string; orgId: number }): string {
  return format.replaceAll('{qrToken}', token.qrToken).replaceAll('{orgId}', String(token.orgId));
}

export const EXPORT_CSV_NAME = 'static-tokens.csv';
export const EXPORT_QR_FOLDER = 'qr';

/**
 * A batch as the console exports it: one CSV with every token of the batch and a folder of QR
 * PNGs, each named after the AuthToken of its device (`qr/<AuthToken>.png`), encoding the
 * template's QR payload. The CSV holds AuthTokens: only the creating organisation gets this.
 */
export async function buildExportZip(template: TemplateRow, tokens: readonly StaticTokenRow[], exportedAt: number): Promise<Buffer> {
  const fieldNames = template.metadataFields.map((f) => f.name);
  let csv = csvLine(['AuthToken', 'QR Token', 'QR Payload', 'Template ID', 'Organization ID', 'Status', 'Created At', ...fieldNames]);
  const images: Zippable = {};
  const mtime = new Date(exportedAt);
  for (const [index, token] of tokens.entries()) {
    if (index > 0 && index % TOKENS_PER_TURN === 0) await nextTurn();
    const payload = qrPayload(template.qrPayloadFormat, token);
    const metadata = token.metadata ? (JSON.parse(token.metadata) as Record<string, string>) : {};
    csv += csvLine([
      token.deviceToken,
      token.qrToken,
      payload,
      template.blynkTemplateId,
      String(token.orgId),
      token.status,
      new Date(token.createdAt).toISOString(),
      ...fieldNames.map((name) => metadata[name] ?? ''),
    ]);
    const png = qrPng(payload);
    images[`${EXPORT_QR_FOLDER}/${token.deviceToken}.png`] = [png, { level: 0, mtime }];
  }
  const files: Zippable = { [EXPORT_CSV_NAME]: [Buffer.from(csv, 'utf8'), { level: CSV_DEFLATE_LEVEL, mtime }], ...images };
  return Buffer.from(zipSync(files));
}
