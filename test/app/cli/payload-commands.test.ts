import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../app/cli/main.js';
import { readFirmwareVector, VECTOR_TOKEN } from '../../core/payload/firmware-vectors.js';

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), '../../vectors');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const sameFile = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('flashline nvs generate / nvs mfg / fw patch', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'payload-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('nvs generate: the same image as nvs_partition_gen.py, SIZE in hex or decimal, --outdir', async () => {
    const out = join(dir, 'edgent.bin');
    const hex = await run(['nvs', 'generate', join(VECTORS, 'nvs/edgent.csv'), out, '0x5000']);
    expect(hex).toMatchObject({ code: 0, err: '' });
    expect(hex.out).toMatch(/Created NVS image .*edgent\.bin \(20480 bytes, 2 keys\)/);
    expect(hex.out).not.toContain(VECTOR_TOKEN);
    expect(sameFile(out, join(VECTORS, 'nvs/edgent.bin'))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const dec = await run(['nvs', 'generate', join(VECTORS, 'nvs/blobs.csv'), 'sub/blobs.bin', '24576', '--outdir', dir]);
    expect(dec.code).toBe(0);
    expect(sameFile(join(dir, 'sub/blobs.bin'), join(VECTORS, 'nvs/blobs.bin'))).toBe(true);
  });

  it('nvs generate refuses a bad size, a missing file and a wrong argument count', async () => {
    const csv = join(VECTORS, 'nvs/edgent.csv');
    expect(await run(['nvs', 'generate', csv, join(dir, 'x.bin'), '0x5001'])).toMatchObject({ code: 1, err: expect.stringMatching(/multiple of 4096/) });
    expect(await run(['nvs', 'generate', csv, join(dir, 'x.bin'), 'lots'])).toMatchObject({ code: 1, err: expect.stringMatching(/"lots" is not a number/) });
    expect(await run(['nvs', 'generate', join(dir, 'none.csv'), join(dir, 'x.bin'), '0x3000'])).toMatchObject({ code: 1, err: expect.stringMatching(/could not be read/) });
    expect(await run(['nvs', 'generate', csv, join(dir, 'x.bin')])).toMatchObject({ code: 2, err: expect.stringMatching(/2 given[\s\S]*Usage: flashline nvs generate/) });
    expect(await run(['nvs', 'generate', csv, join(dir, 'x.bin'), '0x3000', '--version', '1'])).toMatchObject({ code: 2 });
    expect(existsSync(join(dir, 'x.bin'))).toBe(false);
  });

  it('nvs mfg: csv/ and bin/ like mfg_gen.py, byte-identical, never overwriting', async () => {
    const src = join(VECTORS, 'nvs-schemas');
    // The values' file rows are relative to the values CSV, so run on a copy beside its files/.
    cpSync(join(src, 'files'), join(dir, 'in', 'files'), { recursive: true });
    cpSync(join(src, 'mfg-config.csv'), join(dir, 'in', 'mfg-config.csv'));
    cpSync(join(src, 'mfg-values.csv'), join(dir, 'in', 'mfg-values.csv'));
    const args = ['nvs', 'mfg', join(dir, 'in/mfg-config.csv'), join(dir, 'in/mfg-values.csv'), 'unit', '0x4000', '--fileid', 'serial', '--prefix_num', '7', '4', '--outdir', join(dir, 'out')];
    const first = await run(args);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/Created 3 NVS images \(16384 bytes each\) .*unit-0007-SN-0001\.bin, unit-0008-SN-0002\.bin, unit-0009-SN-0003\.bin/);
    expect(first.out).not.toContain(VECTOR_TOKEN);
    for (const name of ['unit-0007-SN-0001', 'unit-0008-SN-0002', 'unit-0009-SN-0003']) {
      expect(sameFile(join(dir, 'out/bin', `${name}.bin`), join(src, 'mfg-fileid/bin', `${name}.bin`))).toBe(true);
      expect(sameFile(join(dir, 'out/csv', `${name}.csv`), join(src, 'mfg-fileid/csv', `${name}.csv`))).toBe(true);
      expect(statSync(join(dir, 'out/bin', `${name}.bin`)).mode & 0o777).toBe(0o600);
    }
    const again = await run(args);
    expect(again).toMatchObject({ code: 1, err: expect.stringMatching(/already exists/) });
    expect(readdirSync(join(dir, 'in'))).toEqual(['files', 'mfg-config.csv', 'mfg-values.csv']);
  });

  it('nvs mfg refuses non-.csv inputs, a path as PREFIX and a bad --prefix_num', async () => {
    const c = join(VECTORS, 'nvs-schemas/mfg-config.csv');
    const v = join(VECTORS, 'nvs-schemas/mfg-values.csv');
    expect((await run(['nvs', 'mfg', c, join(dir, 'v.txt'), 'p', '0x3000'])).err).toMatch(/\.csv extension/);
    expect((await run(['nvs', 'mfg', c, v, '../p', '0x3000'])).err).toMatch(/PREFIX is a file name prefix/);
    expect((await run(['nvs', 'mfg', c, v, 'p', '0x3000', '--prefix_num', '7'])).err).toMatch(/two whole numbers/);
  });

  it('fw patch: the image esptool wrote with the expected tag, and the token never printed', async () => {
    const input = join(dir, 'app.bin');
    writeFileSync(input, readFirmwareVector('esp32-app.bin'));
    const out = join(dir, 'patched.bin');
    const result = await run(['fw', 'patch', input, out, '--auth', VECTOR_TOKEN, '--host', 'fra1.blynk.cloud', '--chip', 'esp32']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/Patched the blnkopt tag at 0x[0-9a-f]+ \(306 bytes, 227 spare\): keys auth, host, port\./);
    expect(result.out).toMatch(/checksum and SHA-256 updated/);
    expect(result.out).toMatch(/no ssid/);
    expect(result.out + result.err).not.toContain(VECTOR_TOKEN);
    expect(readFileSync(out).equals(Buffer.from(readFirmwareVector('esp32-app-patched.bin')))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const tokenFile = join(dir, 'token.txt');
    writeFileSync(tokenFile, `${VECTOR_TOKEN}\n`);
    const fromFile = await run(['fw', 'patch', input, join(dir, 'p2.bin'), '--auth-file', tokenFile, '--host', 'fra1.blynk.cloud']);
    expect(fromFile.code).toBe(0);
    expect(sameFile(join(dir, 'p2.bin'), out)).toBe(true);
  });

  it('fw patch refusals never echo the token', async () => {
    const input = join(dir, 'c3.bin');
    writeFileSync(input, readFirmwareVector('esp32c3-app.bin'));
    const cases: Array<[string[], number, RegExp]> = [
      [['fw', 'patch', input, join(dir, 'o.bin'), '--auth', VECTOR_TOKEN, '--chip', 'ESP32'], 1, /built for ESP32-C3, not for ESP32/],
      [['fw', 'patch', input, join(dir, 'o.bin'), '--auth', VECTOR_TOKEN, '--host', 'x'.repeat(40)], 1, /host must be 1 to 33/],
      [['fw', 'patch', input, join(dir, 'o.bin'), VECTOR_TOKEN], 2, /3 arguments given/],
      [['fw', 'patch', input, join(dir, 'o.bin')], 2, /exactly one of --auth or --auth-file/],
      [['fw', 'patch', input, join(dir, 'o.bin'), '--auth', `${VECTOR_TOKEN}x`], 1, /AuthToken is not 32 characters/],
      [['fw', 'patch', input, join(dir, 'o.bin'), '--auth', VECTOR_TOKEN, '--port', '0x1bb'], 2, /--port/],
      [['fw', 'patch', input, join(dir, 'o.bin'), '--auth', VECTOR_TOKEN, '--chip', 'ESP31'], 2, /--chip must be one of/],
      [['fw', 'patch', join(dir, 'missing.bin'), join(dir, 'o.bin'), '--auth', VECTOR_TOKEN], 1, /could not be read/],
    ];
    for (const [argv, code, pattern] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err).toMatch(pattern);
      expect(r.out + r.err).not.toContain(VECTOR_TOKEN);
    }
    expect(existsSync(join(dir, 'o.bin'))).toBe(false);
  });
});
