import { StationError } from '../../common/errors.js';
import { AuthorizedRequester, type AuthorizedRequesterOptions } from './authorized-requester.js';
import type { CloudClient, DeviceRecord, PullBatchArgs, PulledBatch, PushResult, TokenVoid } from './cloud-client.js';
import { failureFor } from './cloud-http.js';
import { GENERATE_STATIC_TOKENS_PATH, pullStaticTokenBatch } from './static-token-batch.js';

/** What of a device record can go into a Blynk metadata field (values are sent as text). */
export type DeviceRecordField = 'mac' | 'chip' | 'firmwareVersion' | 'stationId' | 'payloadSha256' | 'completedAt' | 'label';

export interface BlynkPlatformClientOptions extends AuthorizedRequesterOptions {
  stationId?: string;
  /**
   * The template's metadata field (exact, case-sensitive name) -> the record field written into it.
   * Blynk refuses names the template does not have, so this must match the template.
   */
  metaFields: Readonly<Record<string, DeviceRecordField>>;
  /**
   * The AuthToken of a QR token this station holds (the station's sealed queue), or null. Blynk
   * writes device metadata through the device-side API, which is keyed by the AuthToken.
   */
  authTokenFor: (qrToken: string) => string | null;
  /** Path of Blynk's undocumented "generate static tokens" endpoint (default: our cloud's). */
  generatePath?: string;
}

/** Metadata values Blynk accepts: short text. */
const META_VALUE_CHARS_MAX = 255;

/**
 * The station's cloud interface over the Blynk platform's public HTTPS API, for makers who run on
 * Blynk itself rather than on a Flashline cloud. Blynk has no station endpoints, so:
 * - pull: the "generate static tokens" call (one method; path configurable, see static-token-batch);
 * - device records: a passed board's record goes into its device's metadata fields through
 *   `GET /external/api/device/meta/update?token=&metaFieldName=&value=` (Blynk makes the static
 *   token's device on the first metadata write); setting a field to the value it has is harmless,
 *   so a repeated push changes nothing. A failed board's record has nowhere to go on Blynk: its
 *   token's burn is reported by `pushTokenVoids`;
 * - voids and burns: `DELETE /api/v1/organization/static-tokens?token=` invalidates the AuthToken
 *   (a board holding it can never connect). A token already gone (404) counts as a duplicate.
 * The AuthToken travels only in the device-side URL, over HTTPS (or loopback); it is never in a
 * log line or an error: errors name the operation and the QR token at most.
 */
export class BlynkPlatformClient implements CloudClient {
  private readonly http: AuthorizedRequester;
  private readonly stationId: string | null;

  constructor(private readonly options: BlynkPlatformClientOptions) {
    this.http = new AuthorizedRequester(options);
    this.stationId = options.stationId ?? null;
  }

  pullBatch(args: PullBatchArgs): Promise<PulledBatch> {
    return pullStaticTokenBatch(this.http, args, this.stationId, this.options.generatePath ?? GENERATE_STATIC_TOKENS_PATH);
  }

  async pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult> {
    const operation = 'writing device records into Blynk metadata';
    for (const record of records) {
      if (record.result !== 'passed') continue;
      const authToken = this.options.authTokenFor(record.qrToken);
      if (!authToken) {
        throw new StationError({
          // A refusal, not a network problem: the sync engine holds this one record for a supervisor.
          code: 'CLOUD_REJECTED',
          message: `The station no longer holds the token of ${record.qrToken}; its record cannot be written to Blynk.`,
          operatorFault: false,
          details: { operation, qrToken: record.qrToken },
        });
      }
      for (const [metaFieldName, field] of Object.entries(this.options.metaFields)) {
        const value = recordValue(record, field);
        if (value === null) continue;
        const query = new URLSearchParams({ token: authToken, metaFieldName, value: value.slice(0, META_VALUE_CHARS_MAX) });
        const res = await this.http.requestPublic(operation, 'GET', `/external/api/device/meta/update?${query.toString()}`);
        if (res.status !== 200) throw failureFor(operation, res);
      }
    }
    return { accepted: records.length, duplicates: 0 };
  }

  async pushTokenVoids(voids: readonly TokenVoid[]): Promise<PushResult> {
    const operation = 'deleting voided and burned tokens on Blynk';
    const total: PushResult = { accepted: 0, duplicates: 0 };
    for (const v of voids) {
      const res = await this.http.request(operation, 'DELETE', `/api/v1/organization/static-tokens?token=${encodeURIComponent(v.qrToken)}`);
      if (res.status === 200) total.accepted++;
      else if (res.status === 404) total.duplicates++;
      else throw failureFor(operation, res);
    }
    return total;
  }
}

function recordValue(record: DeviceRecord, field: DeviceRecordField): string | null {
  switch (field) {
    case 'completedAt':
      return new Date(record.completedAt).toISOString();
    case 'label':
      return record.labelRef ? `${record.labelRef.sheetId}#${record.labelRef.position + 1}` : null;
    default:
      return record[field];
  }
}
