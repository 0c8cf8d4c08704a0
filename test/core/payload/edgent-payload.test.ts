import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { ARDUINO_DEFAULT_NVS_SIZE, buildEdgentNvsImage, edgentNvsEntries, isBlynkAuthToken } from '../../../core/payload/edgent-payload.js';
import { findNvsString, readNvs } from '../../../native/nvs/nvs-reader.js';
import { readVectorBin, vectorPath } from './nvs-vectors.js';

// The same made-up token as in test/vectors/nvs/edgent.csv.
const TOKEN = /^auth,data,string,(.*)$/m.exec(readFileSync(vectorPath('edgent', 'csv'), 'utf8'))![1]!;

describe('buildEdgentNvsImage', () => {
  it('is byte-identical to nvs_partition_gen.py for namespace blynk with host and auth', () => {
    expect(TOKEN).toHaveLength(32);
    const image = buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, ARDUINO_DEFAULT_NVS_SIZE);
    expect(Buffer.from(image).equals(Buffer.from(readVectorBin('edgent')))).toBe(true);
  });

  it('leaves host out when not given (the firmware then uses its default server)', () => {
    const image = buildEdgentNvsImage({ auth: TOKEN }, ARDUINO_DEFAULT_NVS_SIZE);
    expect(Buffer.from(image).equals(Buffer.from(readVectorBin('edgent-auth-only')))).toBe(true);
    expect(findNvsString(image, 'blynk', 'auth')).toBe(TOKEN);
    expect([...readNvs(image).get('blynk')!.keys()]).toEqual(['auth']);
  });

  it('round-trips any valid token through the firmware-side reader', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz-_0129';
    expect(isBlynkAuthToken(token)).toBe(true);
    const image = buildEdgentNvsImage({ auth: token, host: 'fra1.blynk.cloud' }, 0x3000);
    expect(findNvsString(image, 'blynk', 'auth')).toBe(token);
    expect(findNvsString(image, 'blynk', 'host')).toBe('fra1.blynk.cloud');
  });

  it('refuses a malformed token without echoing it', () => {
    for (const bad of ['short', `${TOKEN}x`, `${TOKEN.slice(0, 31)}!`, `${TOKEN.slice(0, 31)} `, '']) {
      try {
        buildEdgentNvsImage({ auth: bad }, 0x3000);
        throw new Error('expected INVALID_INPUT');
      } catch (err) {
        expect(err).toBeInstanceOf(StationError);
        const e = err as StationError;
        expect(e.code).toBe('INVALID_INPUT');
        if (bad) expect(JSON.stringify(e.toJSON())).not.toContain(bad);
      }
    }
  });

  it('refuses an empty or spaced host', () => {
    expect(() => edgentNvsEntries({ auth: TOKEN, host: '' })).toThrow(StationError);
    expect(() => edgentNvsEntries({ auth: TOKEN, host: 'blynk cloud' })).toThrow(/host/);
  });

  it('refuses a partition size that is too small or misaligned', () => {
    expect(() => buildEdgentNvsImage({ auth: TOKEN }, 0x2000)).toThrow(/0x3000/);
    expect(() => buildEdgentNvsImage({ auth: TOKEN }, 0x3800)).toThrow(/multiple of 4096/);
  });
});
