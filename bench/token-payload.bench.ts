/**
 * Cost of the per-board token payload for each payload kind of the demo product, against the time
 * the same bytes take on the serial line at 921600 baud (92,160 bytes/s before compression), and the
 * one-off cost of loading and checking the manifest.
 *
 *   npx tsx bench/token-payload.bench.ts
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultProductManifestPath, loadProductManifest, type ProductManifest } from '../core/product/manifest.js';
import { DEMO_FIRMWARE_DIR } from '../scripts/make-demo-firmware.js';

const LINE_BYTES_PER_S = 921_600 / 10;
const ROUNDS = 200;

function timeMs(fn: () => void, rounds: number): number {
  fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}

const token = (i: number) => ({ authToken: `Bench${String(i).padStart(27, '0')}`, qrToken: `sqr_${'q'.repeat(32)}`, metadata: { Serial: String(i) } });

const dir = mkdtempSync(join(tmpdir(), 'payload-bench-'));
try {
  cpSync(DEMO_FIRMWARE_DIR, join(dir, 'firmware', 'demo-esp32'), { recursive: true });
  writeFileSync(join(dir, 'firmware', 'demo-esp32', 'mfg.csv'), 'blynk,namespace,\nauth,data,string\nfactory,namespace,\nqr,data,string\nserial,data,string\n');
  const demo = JSON.parse(readFileSync(defaultProductManifestPath(), 'utf8')) as ProductManifest;
  const payloads: Array<[string, ProductManifest['builds'][number]['flashline']['tokenPayload']]> = [
    ['nvs edgent', { kind: 'nvs', schema: 'edgent', partition: 'nvs' }],
    ['nvs edgent-classic', { kind: 'nvs', schema: 'edgent-classic', partition: 'nvs', port: 443 }],
    ['nvs mfg (3 keys)', { kind: 'nvs', schema: 'mfg', partition: 'nvs', config: '../firmware/demo-esp32/mfg.csv', values: { auth: '{token}', qr: '{qrToken}', serial: 'SN-{meta:Serial}' } }],
    ['firmware-tag (192 KB app)', { kind: 'firmware-tag', tag: 'blnkopt' }],
  ];
  const loadMs = timeMs(() => loadProductManifest(defaultProductManifestPath()), 20);
  console.log(`manifest load + checks (demo, 220 KB of parts): ${loadMs.toFixed(2)} ms`);
  for (const [label, payload] of payloads) {
    const m = structuredClone(demo);
    m.builds[0]!.flashline.tokenPayload = payload;
    const path = join(dir, 'products', 'bench.json');
    cpSync(defaultProductManifestPath(), path);
    writeFileSync(path, JSON.stringify(m));
    const build = loadProductManifest(path).build('ESP32');
    let i = 0;
    let bytes = 0;
    const ms = timeMs(() => {
      const regions = build.buildTokenPayload(token(i++)).regions;
      bytes = regions.reduce((n, r) => n + r.data.length, 0);
    }, ROUNDS);
    const wireMs = (bytes / LINE_BYTES_PER_S) * 1000;
    console.log(
      `${label.padEnd(26)} ${bytes.toString().padStart(7)} B  build ${ms.toFixed(3).padStart(7)} ms  wire ${wireMs.toFixed(0).padStart(5)} ms  build/wire ${(ms / wireMs).toFixed(4)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
