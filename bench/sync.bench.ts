/**
 * Sync throughput: 100,000 device records pushed through FlashlineCloudClient (1,000 per request,
 * one request at a time, as the station sends them) to the cloud service on SQLite (a file, WAL)
 * over real HTTP on 127.0.0.1. The tokens the records name are pulled first, 1,000 per batch
 * (also timed). Then the same 100,000 again, all duplicates (the resend after a lost reply).
 *
 *   npx tsx bench/sync.bench.ts              # 100,000 records
 *   SYNC_RECORDS=10000 npx tsx bench/sync.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashlineCloudClient, type DeviceRecord } from '../core/cloud/cloud-client.js';
import { startTestCloud } from '../test/cloud/cloud-test-kit.js';

const RECORDS = Number(process.env.SYNC_RECORDS ?? 100_000);
const PER_BATCH = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'flashline-sync-bench-'));
const cloud = await startTestCloud({ dbPath: join(dir, 'cloud.db') });
try {
  const client = new FlashlineCloudClient({
    baseUrl: cloud.url,
    clientId: cloud.server.seed.clientId,
    clientSecret: cloud.server.seed.clientSecret,
    stationId: 'bench-station',
    timeoutMs: 60_000,
  });
  const t0 = performance.now();
  const qrTokens: string[] = [];
  for (let i = 0; qrTokens.length < RECORDS; i++) {
    const batch = await client.pullBatch({ count: Math.min(PER_BATCH, RECORDS - qrTokens.length), templateId: 1, requestId: `bench-pull-${i}` });
    for (const t of batch.tokens) qrTokens.push(t.token);
  }
  const pullS = (performance.now() - t0) / 1000;
  const records: DeviceRecord[] = qrTokens.map((qrToken, i) => ({
    recordId: `bench-rec-${i}`,
    qrToken,
    mac: `24:6f:28:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
    chip: 'ESP32',
    stationId: 'bench-station',
    result: i % 50 === 0 ? 'failed' : 'passed',
    payloadSha256: 'b'.repeat(64),
    firmwareVersion: '1.0.0',
    labelRef: { sheetId: `sheet-${Math.floor(i / 30)}`, position: i % 30 },
    completedAt: 1_790_000_000_000 + i,
  }));
  const t1 = performance.now();
  const first = await client.pushDeviceRecords(records);
  const pushS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const again = await client.pushDeviceRecords(records);
  const resendS = (performance.now() - t2) / 1000;
  console.log(`Sync throughput, ${RECORDS} records, ${PER_BATCH} per request, cloud on SQLite (file) over HTTP, node ${process.version}`);
  console.log(`  pull ${RECORDS} tokens       ${pullS.toFixed(1)} s  (${Math.round(RECORDS / pullS)} tokens/s)`);
  console.log(`  push ${RECORDS} records      ${pushS.toFixed(1)} s  (${Math.round(RECORDS / pushS)} records/s; accepted ${first.accepted}, duplicates ${first.duplicates})`);
  console.log(`  resend (all duplicates) ${resendS.toFixed(1)} s  (${Math.round(RECORDS / resendS)} records/s; accepted ${again.accepted}, duplicates ${again.duplicates})`);
} finally {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
}
