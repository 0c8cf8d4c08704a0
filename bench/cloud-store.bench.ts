/**
 * The cloud over real HTTP on its two stores: a station batch of 1000 tokens, 200 first connects,
 * 200 claims, one export zip of 1000 tokens. Prints times per store and the PostgreSQL/SQLite ratio
 * measured in this run. PostgreSQL comes from FLASHLINE_TEST_PG_URL or scripts/ensure-postgres.sh.
 *
 *   npx tsx bench/cloud-store.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { boardFor, setupWorld, startTestCloud, type StoreKind } from '../test/cloud/cloud-test-kit.js';

const BATCH = 1000;
const DEVICES = 200;

async function run(store: StoreKind): Promise<Record<string, number>> {
  const cloud = await startTestCloud({ store });
  try {
    const w = await setupWorld(cloud);
    const times: Record<string, number> = {};
    const time = async (name: string, work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      times[name] = performance.now() - t0;
    };
    let tokens: { token: string; deviceToken: string }[] = [];
    let batchId = '';
    await time(`generate ${BATCH}`, async () => {
      const res = await w.maker.post<{ batchId: string; tokens: typeof tokens }>('/api/v1/organization/static-tokens/generate', {
        templateId: w.templateId,
        count: BATCH,
        stationId: 'bench',
        requestId: `bench-${store}`,
      });
      tokens = res.body.tokens;
      batchId = res.body.batchId;
    });
    await time(`${DEVICES} first connects`, async () => {
      for (const t of tokens.slice(0, DEVICES)) await boardFor(cloud, t.deviceToken).connect();
    });
    await time(`${DEVICES} claims`, async () => {
      for (const t of tokens.slice(0, DEVICES)) await w.maker.post('/api/v1/organization/static-tokens/claim', { token: t.token, userId: w.orgA.userId });
    });
    await time(`export zip of ${BATCH}`, async () => {
      const res = await fetch(`${cloud.url}/api/v1/organization/static-tokens/export?batchId=${batchId}`, {
        headers: { authorization: `Bearer ${await cloud.accessToken()}` },
      });
      await res.arrayBuffer();
    });
    return times;
  } finally {
    await cloud.close();
  }
}

const sqlite = await run('sqlite');
const postgres = await run('postgres');
console.log('step'.padEnd(24), 'SQLite ms'.padStart(10), 'PostgreSQL ms'.padStart(14), 'ratio'.padStart(7));
for (const step of Object.keys(sqlite)) {
  const s = sqlite[step]!;
  const p = postgres[step]!;
  console.log(step.padEnd(24), s.toFixed(0).padStart(10), p.toFixed(0).padStart(14), (p / s).toFixed(2).padStart(7));
}
