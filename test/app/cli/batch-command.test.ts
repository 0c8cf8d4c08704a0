import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../app/cli/main.js';
import { readZip } from '../../../core/batches/zip.js';
import { openStationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { stationKeyBeside } from '../../../core/secrets/station-key.js';

/** A station database as the CLI opens it: AuthTokens sealed with the key file beside it. */
const openWithKey = (path: string) => openStationDatabase(path, { keySource: stationKeyBeside(path) });
import { batchTokens } from '../../core/batches/batch-fixtures.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('flashline batch export / import', () => {
  let dir: string;
  const tokens = batchTokens(8, 'cli');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'batch-cli-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const db = openWithKey(join(dir, 'a', 'station.db'));
    new TokenQueue(db).importBatch({ batchId: 'B1', cloudBatchId: 'c1', templateId: 'TMPL7', orgId: 4821, tokens });
    db.close();
    openWithKey(join(dir, 'b', 'station.db')).close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('exports a batch to a private zip and imports it into another station, printing no token', async () => {
    const out = join(dir, 'b1.zip');
    const exported = await run(['batch', 'export', '--data-dir', join(dir, 'a'), '--batch', 'B1', out]);
    expect(exported).toMatchObject({ code: 0, err: '' });
    expect(exported.out).toMatch(/Exported 8 tokens of batch B1 to .*b1\.zip .*keep it private/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readZip(readFileSync(out)).map((e) => e.name)).toHaveLength(9);

    const imported = await run(['batch', 'import', out, '--data-dir', join(dir, 'b')]);
    expect(imported).toMatchObject({ code: 0, err: '' });
    expect(imported.out).toMatch(/^Imported 8 tokens as batch file-[0-9a-f]{12} \(organisation 4821, template TMPL7\)\.\n$/);
    const again = await run(['batch', 'import', out, '--data-dir', join(dir, 'b')]);
    expect(again.out).toMatch(/was imported before as batch file-[0-9a-f]{12}; nothing added/);

    const db = openWithKey(join(dir, 'b', 'station.db'));
    expect(new TokenQueue(db).stock().available).toBe(8);
    db.close();
    for (const text of [exported.out, imported.out, again.out]) for (const t of tokens) expect(text).not.toContain(t.authToken.slice(0, 8));
  });

  it('refuses to overwrite an existing file without --force, and reports a wrong data folder or batch', async () => {
    const out = join(dir, 'exists.zip');
    writeFileSync(out, 'keep me');
    expect(await run(['batch', 'export', '--data-dir', join(dir, 'a'), '--batch', 'B1', out])).toMatchObject({ code: 1, err: expect.stringContaining('--force') });
    expect((await run(['batch', 'export', '--data-dir', join(dir, 'a'), '--batch', 'B1', '--force', out])).code).toBe(0);

    const missing = await run(['batch', 'export', '--data-dir', join(dir, 'nowhere'), '--batch', 'B1', join(dir, 'x.zip')]);
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('There is no station database') });
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    const unknown = await run(['batch', 'export', '--data-dir', join(dir, 'a'), '--batch', 'B9', join(dir, 'y.zip')]);
    expect(unknown).toMatchObject({ code: 1, err: expect.stringContaining('There is no batch "B9"') });
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('reports a bad file and bad arguments with exit codes 1 and 2', async () => {
    const junk = join(dir, 'junk.zip');
    writeFileSync(junk, 'definitely not a zip');
    expect(await run(['batch', 'import', junk, '--data-dir', join(dir, 'b')])).toMatchObject({ code: 1, err: expect.stringContaining('not acceptable') });
    expect(await run(['batch', 'import', '--data-dir', join(dir, 'b')])).toMatchObject({ code: 2, err: expect.stringContaining('Usage: flashline batch import') });
    expect(await run(['batch', 'import', junk, '--org-id', 'abc', '--data-dir', join(dir, 'b')])).toMatchObject({ code: 2 });
    expect(await run(['batch', 'export', '--data-dir', join(dir, 'a'), 'out.zip'])).toMatchObject({ code: 2 });
    expect(await run(['batch', 'export', '--bogus'])).toMatchObject({ code: 2 });
    expect((await run(['help', 'batch', 'export'])).out).toContain('qr/<AuthToken>.png');
    expect((await run(['help'])).out).toMatch(/batch import\s+Import a token zip/);
  });
});
