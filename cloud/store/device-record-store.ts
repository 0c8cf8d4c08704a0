import type { CloudDb } from './cloud-db.js';

export interface DeviceRecordInput {
  recordId: string;
  qrToken: string;
  mac: string | null;
  chip: string | null;
  stationId: string;
  result: 'passed' | 'failed';
  payloadSha256: string | null;
  firmwareVersion: string | null;
  labelRef: { sheetId: string; position: number } | null;
  completedAt: number;
}

export type RecordPushOutcome =
  | { kind: 'ok'; accepted: number; duplicates: number }
  /** Nothing was stored: the record at `index` names a QR token this organisation does not own. */
  | { kind: 'unknown-token'; index: number; recordId: string }
  /** Nothing was stored: the record at `index` contradicts one already stored. */
  | { kind: 'conflict'; index: number; recordId: string; reason: 'record-changed' | 'token-on-other-board' };

interface StoredRecord {
  record_id: string;
  qr_token: string;
  mac: string | null;
  chip: string | null;
  station_id: string;
  result: string;
  payload_sha256: string | null;
  firmware_version: string | null;
  label_sheet_id: string | null;
  label_position: number | null;
  completed_at: number;
}

function sameRecord(stored: StoredRecord, input: DeviceRecordInput): boolean {
  return (
    stored.qr_token === input.qrToken &&
    stored.mac === input.mac &&
    stored.chip === input.chip &&
    stored.station_id === input.stationId &&
    stored.result === input.result &&
    stored.payload_sha256 === input.payloadSha256 &&
    stored.firmware_version === input.firmwareVersion &&
    stored.label_sheet_id === (input.labelRef?.sheetId ?? null) &&
    stored.label_position === (input.labelRef?.position ?? null) &&
    stored.completed_at === input.completedAt
  );
}

/**
 * What stations report about each token they used. A push is all-or-nothing and idempotent: a
 * record whose recordId is stored with the same content, or whose (qrToken, mac) is already
 * recorded, counts as a duplicate and changes nothing, so an outbox can resend after a lost reply.
 */
export class DeviceRecordStore {
  constructor(private readonly db: CloudDb) {}

  async push(orgId: number, records: readonly DeviceRecordInput[], now: number): Promise<RecordPushOutcome> {
    // A rejected push stores nothing: throwing out of the transaction rolls it back.
    try {
      return await this.db.transaction(async (tx): Promise<RecordPushOutcome> => {
        let accepted = 0;
        let duplicates = 0;
        for (const [index, record] of records.entries()) {
          const tokenRow = await tx.get<{ id: number }>('SELECT id FROM static_tokens WHERE org_id = ? AND qr_token = ?', [orgId, record.qrToken]);
          if (!tokenRow) throw new RejectPush({ kind: 'unknown-token', index, recordId: record.recordId });
          const sameId = await tx.get<StoredRecord>('SELECT * FROM device_records WHERE org_id = ? AND record_id = ?', [orgId, record.recordId]);
          if (sameId) {
            if (!sameRecord(sameId, record)) {
              throw new RejectPush({ kind: 'conflict', index, recordId: record.recordId, reason: 'record-changed' });
            }
            duplicates++;
            continue;
          }
          // A token goes into exactly one board (it is burned on failure), so one record per token.
          const sameToken = await tx.get<StoredRecord>('SELECT * FROM device_records WHERE org_id = ? AND static_token_id = ? LIMIT 1', [
            orgId,
            tokenRow.id,
          ]);
          if (sameToken) {
            if (sameToken.mac !== record.mac) {
              throw new RejectPush({ kind: 'conflict', index, recordId: record.recordId, reason: 'token-on-other-board' });
            }
            duplicates++;
            continue;
          }
          await tx.run(
            `INSERT INTO device_records (org_id, record_id, static_token_id, qr_token, mac, chip, station_id, result,
               payload_sha256, firmware_version, label_sheet_id, label_position, completed_at, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [
              orgId,
              record.recordId,
              tokenRow.id,
              record.qrToken,
              record.mac,
              record.chip,
              record.stationId,
              record.result,
              record.payloadSha256,
              record.firmwareVersion,
              record.labelRef?.sheetId ?? null,
              record.labelRef?.position ?? null,
              record.completedAt,
              now,
            ],
          );
          accepted++;
        }
        return { kind: 'ok', accepted, duplicates };
      });
    } catch (err) {
      if (err instanceof RejectPush) return err.outcome;
      throw err;
    }
  }
}

class RejectPush extends Error {
  constructor(readonly outcome: Exclude<RecordPushOutcome, { kind: 'ok' }>) {
    super(outcome.kind);
  }
}
