import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_CONTENT_SECURITY_POLICY,
  APP_ENTRY_URL,
  createAppProtocolHandler,
  isAppUrl,
  resolveAppPath,
} from '../../electron/app-protocol.js';

const SECRET = 'top-secret-outside-the-renderer-dir';
let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'flashline-protocol-'));
  root = path.join(base, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ok</title>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(base, 'secret.txt'), SECRET);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const get = (url: string, method = 'GET') => createAppProtocolHandler(root)(new Request(url, { method }));

describe('app:// protocol handler', () => {
  it('serves index.html with a CSP header and the right content type', async () => {
    const res = await get(APP_ENTRY_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(APP_CONTENT_SECURITY_POLICY);
    expect(APP_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(await res.text()).toContain('<title>ok</title>');
  });

  it('serves the root as index.html and nested assets as JavaScript', async () => {
    expect(await (await get('app://flashline/')).text()).toContain('<title>ok</title>');
    const js = await get('app://flashline/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it.each(['app://flashline/../secret.txt', 'app://flashline/assets/../../secret.txt', 'app://flashline/%2e%2e/secret.txt'])(
    'refuses the raw URL %s before any normalisation',
    (url) => {
      expect(resolveAppPath(root, url)).toEqual({ ok: false, status: 403 });
    },
  );

  it.each(['app://flashline/../secret.txt', 'app://flashline/assets/../../secret.txt', 'app://flashline/%2e%2e/secret.txt'])(
    'never serves the outside file for %s once the URL layer has normalised it',
    async (url) => {
      const res = await get(url);
      expect(res.status).not.toBe(200);
      expect(await res.text()).not.toContain(SECRET);
    },
  );

  it.each([
    'app://flashline/..%2fsecret.txt',
    'app://flashline/assets/..%2F..%2Fsecret.txt',
    'app://flashline/..%5csecret.txt',
    'app://flashline/assets%5c..%5c..%5csecret.txt',
    'app://flashline/index.html%00.js',
    'app://flashline/%E0%A4%A',
  ])('refuses %s with 403 and never returns the file outside the root', async (url) => {
    const res = await get(url);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(SECRET);
  });

  it('keeps an absolute path smuggled in the URL inside the root', async () => {
    const url = `app://flashline/${encodeURIComponent(path.join(base, 'secret.txt'))}`;
    const resolved = resolveAppPath(root, url);
    expect(resolved.ok && resolved.filePath.startsWith(root + path.sep)).toBe(true);
    const res = await get(url);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(SECRET);
  });

  it('answers 404 for a missing file, another host or another scheme', async () => {
    expect((await get('app://flashline/nope.js')).status).toBe(404);
    expect((await get('app://evil/index.html')).status).toBe(404);
    expect(resolveAppPath(root, 'file:///etc/passwd')).toEqual({ ok: false, status: 404 });
  });

  it('refuses a directory and any method other than GET/HEAD', async () => {
    expect((await get('app://flashline/assets')).status).toBe(404);
    expect((await get(APP_ENTRY_URL, 'POST')).status).toBe(405);
    const head = await get(APP_ENTRY_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('recognises only our own origin as the app', () => {
    expect(isAppUrl('app://flashline/index.html')).toBe(true);
    expect(isAppUrl('app://flashline.evil/index.html')).toBe(false);
    expect(isAppUrl('https://flashline/index.html')).toBe(false);
    expect(isAppUrl('file:///tmp/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});
