import type { DeviceRecord } from '../cloud/cloud-client.js';
import { writeCsv } from '../batches/csv.js';
import type { StationDatabase } from '../db/open-database.js';

const HEADER = [
  'Record ID',
  'QR Token',
  'MAC',
  'Chip',
  'Station',
  'Result',
  'Payload SHA-256',
  'Firmware',
  'Label Sheet',
  'Label Position',
  'Completed At',
  'Synced At',
] as const;

/**
 * Every device record the station made (the outbox keeps them after they are sent), oldest first,
 * as CSV. Cells are written by core/batches/csv.ts, which escapes anything a spreadsheet would run
 * as a formula. Device records never hold an AuthToken.
 */
export function deviceRecordsCsv(db: StationDatabase): { csv: string; rows: number } {
  const rows = db
    .prepare("SELECT payload, sent_at AS sentAt FROM outbox WHERE kind = 'device-record' ORDER BY id")
    .all() as { payload: string; sentAt: string | null }[];
  const lines = rows.map(({ payload, sentAt }) => {
    const r = JSON.parse(payload) as DeviceRecord;
    return [
      r.recordId,
      r.qrToken,
      r.mac ?? '',
      r.chip ?? '',
      r.stationId,
      r.result,
      r.payloadSha256 ?? '',
      r.firmwareVersion ?? '',
      r.labelRef?.sheetId ?? '',
      r.labelRef ? String(r.labelRef.position + 1) : '',
      new Date(r.completedAt).toISOString(),
      sentAt ?? '',
    ];
  });
  return { csv: writeCsv([HEADER, ...lines]), rows: lines.length };
}
