import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { parseEspImage } from '../../../core/payload/esp-image.js';
import {
  encodeBlnkoptTag,
  findBlnkoptTag,
  findBlnkoptTags,
  patchFirmwareTag,
  type BlnkoptValues,
} from '../../../core/payload/firmware-tag-patch.js';
import { buildImage, checkImage } from '../../../native/sim/app-image.js';
import { firmwareReadsTag, readFirmwareVector, STOCK_TAG_LENGTH, stockTag, VECTOR_TOKEN } from './firmware-vectors.js';

const OTHER_TOKEN = 'aaaaBBBBccccDDDD0000-_-_9999zzzz';

function caught(fn: () => unknown): StationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    return err as StationError;
  }
  throw new Error('expected INVALID_INPUT');
}

/** A small valid ESP32 app whose first segment holds `rodata` (for tags the vectors do not have). */
function appWith(rodata: Uint8Array, options: { trailer?: Uint8Array } = {}): Uint8Array {
  const image = buildImage({
    chipId: 0,
    entry: 0x40081000,
    segments: [
      { loadAddress: 0x3f400020, data: Buffer.concat([Buffer.from('before\0'), rodata, Buffer.from('after\0')]) },
      { loadAddress: 0x40080000, data: Buffer.from('code\0\0\0\0') },
    ],
  });
  return options.trailer ? Buffer.concat([image, options.trailer]) : image;
}

describe('findBlnkoptTag', () => {
  it('finds the stock Edgent_ESP32 tag in the vector image: 306 bytes, ssid placeholder, host, port', () => {
    const image = readFirmwareVector('esp32-app.bin');
    const tag = findBlnkoptTag(image);
    expect(tag.length).toBe(STOCK_TAG_LENGTH);
    expect(Buffer.from(image.subarray(tag.offset, tag.offset + tag.length)).equals(stockTag())).toBe(true);
    expect(tag.pairs.map((p) => p.key)).toEqual(['ssid', 'host', 'port']);
    expect(Buffer.from(tag.pairs[1]!.value).toString()).toBe('blynk.cloud');
  });

  it('ignores the word "blnkopt" where no tag follows, and refuses zero or two tags', () => {
    const decoy = Buffer.from('config_load_blnkopt\0blnkopt\0\0\0blnkopt\0not a key!\0x\0\0\0', 'latin1');
    expect(findBlnkoptTags(decoy)).toEqual([]);
    const none = caught(() => findBlnkoptTag(decoy));
    expect(none.message).toMatch(/no blnkopt tag/);
    const two = caught(() => findBlnkoptTag(Buffer.concat([stockTag(), Buffer.from('xx'), stockTag()])));
    expect(two.message).toMatch(/2 blnkopt tags \(at 0x0, 0x134\)/);
  });
});

describe('patchFirmwareTag against images esptool wrote with the expected tag', () => {
  it('ESP32: auth and host written, port kept, placeholder dropped; checksum and SHA-256 byte-identical to esptool', () => {
    const input = readFirmwareVector('esp32-app.bin');
    const copy = input.slice();
    const result = patchFirmwareTag(input, { auth: VECTOR_TOKEN, host: 'fra1.blynk.cloud' }, { chip: 'ESP32' });
    expect(Buffer.from(result.image).equals(Buffer.from(readFirmwareVector('esp32-app-patched.bin')))).toBe(true);
    expect(Buffer.from(input).equals(Buffer.from(copy))).toBe(true);
    expect(result.tag).toMatchObject({ length: STOCK_TAG_LENGTH, keys: ['auth', 'host', 'port'] });
    expect(result.tag.spareBytes).toBe(227);
    expect(firmwareReadsTag(result.image, result.tag.offset, STOCK_TAG_LENGTH)).toEqual({ auth: VECTOR_TOKEN, host: 'fra1.blynk.cloud', port: '443' });
  });

  it('ESP32-C3: Wi-Fi credentials, token, host and port', () => {
    const values: BlnkoptValues = { ssid: 'Factory Line 3', pass: 'correct horse battery', auth: VECTOR_TOKEN, host: 'blynk.cloud', port: 8443 };
    const result = patchFirmwareTag(readFirmwareVector('esp32c3-app.bin'), values, { chip: 'ESP32-C3' });
    expect(Buffer.from(result.image).equals(Buffer.from(readFirmwareVector('esp32c3-app-patched.bin')))).toBe(true);
    expect(firmwareReadsTag(result.image, result.tag.offset, STOCK_TAG_LENGTH)).toEqual({
      ssid: 'Factory Line 3',
      pass: 'correct horse battery',
      auth: VECTOR_TOKEN,
      host: 'blynk.cloud',
      port: '8443',
    });
  });

  it('ESP8266 v1 image: the checksum is recomputed (no SHA-256 in that format)', () => {
    const result = patchFirmwareTag(readFirmwareVector('esp8266-v1.bin'), { auth: VECTOR_TOKEN, host: 'fra1.blynk.cloud' }, { chip: 'ESP8266' });
    expect(Buffer.from(result.image).equals(Buffer.from(readFirmwareVector('esp8266-v1-patched.bin')))).toBe(true);
  });

  it('patches a patched image again: same tag length, new values, the simulator still boots it', () => {
    const first = patchFirmwareTag(readFirmwareVector('esp32-app.bin'), { auth: VECTOR_TOKEN, ssid: 'Line A', pass: 'pw-A' });
    const second = patchFirmwareTag(first.image, { auth: OTHER_TOKEN, host: 'ny3.blynk.cloud' });
    expect(findBlnkoptTag(second.image).length).toBe(STOCK_TAG_LENGTH);
    expect(firmwareReadsTag(second.image, second.tag.offset, STOCK_TAG_LENGTH)).toEqual({
      ssid: 'Line A',
      pass: 'pw-A',
      auth: OTHER_TOKEN,
      host: 'ny3.blynk.cloud',
      port: '443',
    });
    expect(checkImage(second.image, 0).ok).toBe(true);
  });

  it('pads with NULs when only one or two bytes are left, and the firmware still reads every value', () => {
    // New content: 'blnkopt' NUL, auth pair (38), port pair (9), 2 spare bytes, two NULs = 59 bytes.
    const tag = Buffer.concat([Buffer.from('blnkopt\x00port\x00'), Buffer.from('1'.repeat(43)), Buffer.alloc(3)]);
    expect(tag.length).toBe(59);
    const result = patchFirmwareTag(appWith(tag), { auth: VECTOR_TOKEN, port: 443 });
    expect(result.tag.spareBytes).toBe(2);
    expect(firmwareReadsTag(result.image, result.tag.offset, 59)).toEqual({ auth: VECTOR_TOKEN, port: '443' });
    // The next patch finds a tag two bytes shorter: still correct, two bytes less room.
    expect(findBlnkoptTag(result.image).length).toBe(57);
  });
});

describe('ESP8266 images whose tag follows the v1 image (flash-mapped code after the checksum)', () => {
  it('patches the tag there and leaves the image checksum alone, since it does not cover those bytes', () => {
    const image = buildImage({ chipId: 0, format: 'esp8266', entry: 0x40100004, segments: [{ loadAddress: 0x40100000, data: Buffer.from('ram code') }] });
    const withIrom = Buffer.concat([image, Buffer.from('irom code\0'), stockTag(), Buffer.from('more\0')]);
    const result = patchFirmwareTag(withIrom, { auth: VECTOR_TOKEN }, { chip: 'ESP8266' });
    expect(Buffer.from(result.image.subarray(0, image.length)).equals(Buffer.from(image))).toBe(true);
    expect(firmwareReadsTag(result.image, result.tag.offset, STOCK_TAG_LENGTH)).toEqual({ auth: VECTOR_TOKEN, host: 'blynk.cloud', port: '443' });
  });
});

describe('patchFirmwareTag refusals (and never a secret in a message)', () => {
  const stock = readFirmwareVector('esp32-app.bin');
  const noSecret = (err: StationError) => {
    expect(err.message).not.toContain(VECTOR_TOKEN);
    expect(JSON.stringify(err.toJSON())).not.toContain(VECTOR_TOKEN);
    expect(err.message).not.toContain('hunter2');
    return err;
  };

  it('refuses values that do not fit the tag, saying how many bytes', () => {
    const small = appWith(Buffer.from('blnkopt\x00port\x00443\x00\x00\x00', 'latin1'));
    const err = noSecret(caught(() => patchFirmwareTag(small, { auth: VECTOR_TOKEN, pass: 'hunter2' })));
    expect(err.message).toMatch(/need 70 bytes but the tag in this firmware holds 19/);
    expect(err.details).toEqual({ needed: 70, available: 19 });
  });

  it('refuses values longer than classic Edgent keeps', () => {
    expect(caught(() => patchFirmwareTag(stock, { auth: VECTOR_TOKEN, host: `${'h'.repeat(30)}.com` })).message).toMatch(/host must be 1 to 33/);
    expect(caught(() => patchFirmwareTag(stock, { auth: VECTOR_TOKEN, ssid: 's'.repeat(33) })).message).toMatch(/SSID must be 1 to 32 bytes/);
    noSecret(caught(() => patchFirmwareTag(stock, { auth: VECTOR_TOKEN, pass: `hunter2${'p'.repeat(60)}` })));
    expect(caught(() => patchFirmwareTag(stock, { auth: VECTOR_TOKEN, port: 70000 })).message).toMatch(/port/);
    expect(caught(() => patchFirmwareTag(stock, { auth: VECTOR_TOKEN, host: 'has space' })).message).toMatch(/host/);
  });

  it('refuses a malformed token without echoing it', () => {
    const bad = `${VECTOR_TOKEN.slice(0, 31)}!`;
    const err = caught(() => patchFirmwareTag(stock, { auth: bad }));
    expect(err.message).toMatch(/AuthToken is not 32 characters/);
    expect(err.message).not.toContain(bad);
  });

  it('refuses an image for another chip, a corrupt image, and a truncated one', () => {
    expect(caught(() => patchFirmwareTag(readFirmwareVector('esp32c3-app.bin'), { auth: VECTOR_TOKEN }, { chip: 'ESP32' })).message).toMatch(/built for ESP32-C3/);
    const corrupt = stock.slice();
    corrupt[3000] = corrupt[3000]! ^ 0x10;
    expect(caught(() => patchFirmwareTag(corrupt, { auth: VECTOR_TOKEN })).message).toMatch(/checksum/);
    expect(caught(() => patchFirmwareTag(stock.subarray(0, 60000), { auth: VECTOR_TOKEN })).message).toMatch(/truncated/);
  });

  it('refuses firmware without a tag', () => {
    const err = noSecret(caught(() => patchFirmwareTag(appWith(Buffer.from('no tag here\0')), { auth: VECTOR_TOKEN })));
    expect(err.message).toMatch(/no blnkopt tag/);
  });

  it('refuses a tag outside the segments, and data after the image it would invalidate', () => {
    const outside = appWith(Buffer.from('x\0'), { trailer: stockTag() });
    expect(caught(() => patchFirmwareTag(outside, { auth: VECTOR_TOKEN })).message).toMatch(/outside the image's segments/);
    const signed = appWith(stockTag(), { trailer: Buffer.from([0xe7, 0x02, 0x00, 0x00, 1, 2, 3, 4]) });
    expect(caught(() => patchFirmwareTag(signed, { auth: VECTOR_TOKEN })).message).toMatch(/8 bytes follow the image/);
    const padded = appWith(stockTag(), { trailer: new Uint8Array(4096).fill(0xff) });
    const ok = patchFirmwareTag(padded, { auth: VECTOR_TOKEN });
    expect(parseEspImage(ok.image).trailingBytes).toBe(4096);
  });
});

describe('encodeBlnkoptTag', () => {
  it('fills the room with a filler pair that keeps the length findable', () => {
    const bytes = encodeBlnkoptTag([{ key: 'auth', value: Buffer.from(VECTOR_TOKEN) }], 60);
    expect(Buffer.from(bytes).toString('latin1')).toBe(`blnkopt\0auth\0${VECTOR_TOKEN}\0_\0${'-'.repeat(9)}\0\0\0`);
    expect(findBlnkoptTag(bytes).length).toBe(60);
  });
});
