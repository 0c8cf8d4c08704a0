import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCloud } from '../../../app/cli/cloud-command.js';
import { main } from '../../../app/cli/main.js';
import { call, freshPostgresSchema } from '../../cloud/cloud-test-kit.js';

/** Starts `flashline cloud`, waits for its banner, then runs `use` and stops it. */
async function withCloud(args: string[], use: (banner: string) => Promise<void>): Promise<string> {
  let out = '';
  let release!: () => void;
  const stop = new Promise<void>((resolve) => (release = resolve));
  let bannerSeen!: () => void;
  const banner = new Promise<void>((resolve) => (bannerSeen = resolve));
  const running = runCloud(args, { out: (t) => ((out += t), out.includes('Client secret') && bannerSeen()), err: () => undefined }, stop);
  await Promise.race([banner, running]);
  try {
    await use(out);
  } finally {
    release();
  }
  expect(await running).toBe(0);
  return out;
}

async function loginWith(url: string, banner: string): Promise<number> {
  const id = /Client ID: +(\S+)/.exec(banner)![1]!;
  const secret = /Client secret: +(\S+)/.exec(banner)![1]!;
  const res = await call(`${url}/oauth2/token?grant_type=client_credentials`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
  });
  return res.status;
}

describe('flashline cloud', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-cloud-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves on 127.0.0.1 with a SQLite file and prints the URL and working credentials once', async () => {
    const out = await withCloud(['--db', join(dir, 'c.db'), '--port', '0', '--quiet'], async (banner) => {
      const url = /URL: +(http:\/\/\S+)/.exec(banner)![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await loginWith(url, banner)).toBe(200);
    });
    expect(out.match(/Client secret/g)).toHaveLength(1);
    expect(out).toContain('SQLite');
  });

  it('runs on PostgreSQL when --db is a postgres:// URL', async () => {
    const schema = await freshPostgresSchema();
    try {
      await withCloud(['--db', schema.url, '--port', '0', '--quiet'], async (banner) => {
        expect(banner).toContain('PostgreSQL');
        expect(await loginWith(/URL: +(\S+)/.exec(banner)![1]!, banner)).toBe(200);
      });
    } finally {
      await schema.drop();
    }
  });

  it('refuses a bad port and lists itself in help', async () => {
    let err = '';
    expect(await runCloud(['--port', 'x'], { out: () => undefined, err: (t) => (err += t) }, Promise.resolve())).toBe(2);
    expect(err).toContain('--port');
    let help = '';
    await main(['help'], { out: (t) => (help += t), err: () => undefined });
    expect(help).toMatch(/cloud +Run the cloud service/);
  });
});
