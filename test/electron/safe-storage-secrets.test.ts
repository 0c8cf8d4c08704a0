import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  chooseSecretStore,
  loadStationSecrets,
  SEALED_CLOUD_CREDENTIALS_FILE,
  SEALED_STATION_KEY_FILE,
  type SecretStore,
} from '../../electron/safe-storage-secrets.js';

/**
 * safeStorage mocked: "encryption" is a keyed XOR with a store-held pad, so sealed files never hold
 * the secret in the clear and a different store (another user, another machine) cannot open them.
 */
function fakeStore(options: { available?: boolean; backend?: ReturnType<NonNullable<SecretStore['getSelectedStorageBackend']>> } = {}) {
  const pad = randomBytes(64);
  const xor = (data: Buffer) => Buffer.from(data.map((byte, i) => byte ^ pad[i % pad.length]!));
  const store = {
    available: options.available ?? true,
    shouldReEncrypt: false,
    isAsyncEncryptionAvailable: vi.fn(async () => store.available),
    encryptStringAsync: vi.fn(async (plain: string) => Buffer.concat([Buffer.from('v10'), xor(Buffer.from(plain, 'utf8'))])),
    decryptStringAsync: vi.fn(async (sealed: Buffer) => {
      if (sealed.subarray(0, 3).toString() !== 'v10') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return { result: xor(sealed.subarray(3)).toString('utf8'), shouldReEncrypt: store.shouldReEncrypt };
    }),
    getSelectedStorageBackend: vi.fn(() => options.backend ?? 'gnome_libsecret'),
  };
  return store;
}

const mode = (file: string) => statSync(file).mode & 0o777;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flashline-secrets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chooseSecretStore', () => {
  it('uses safeStorage when it can encrypt with a real keyring', async () => {
    await expect(chooseSecretStore(fakeStore(), 'linux')).resolves.toEqual({ kind: 'safe-storage' });
    await expect(chooseSecretStore(fakeStore({ backend: 'basic_text' }), 'darwin')).resolves.toEqual({ kind: 'safe-storage' });
  });

  it("falls back to the 0600 file when encryption is unavailable or Linux has only the 'basic_text' backend", async () => {
    await expect(chooseSecretStore(fakeStore({ available: false }), 'win32')).resolves.toMatchObject({ kind: 'file', reason: expect.stringContaining('not available') });
    await expect(chooseSecretStore(fakeStore({ backend: 'basic_text' }), 'linux')).resolves.toMatchObject({ kind: 'file', reason: expect.stringContaining('basic_text') });
  });
});

describe('loadStationSecrets', () => {
  it('makes a station key and cloud credentials sealed with safeStorage, in 0600 files, nothing in the clear', async () => {
    const store = fakeStore();
    const log = vi.fn();
    const { secrets, store: choice } = await loadStationSecrets(dir, store, { log, platform: 'linux' });
    expect(choice).toEqual({ kind: 'safe-storage' });
    expect(Buffer.from(secrets.stationKey, 'base64')).toHaveLength(32);
    expect(secrets.cloudCredentials).toMatchObject({ clientId: expect.stringMatching(/^station-/), clientSecret: expect.any(String) });
    for (const file of [SEALED_STATION_KEY_FILE, SEALED_CLOUD_CREDENTIALS_FILE]) {
      const full = path.join(dir, file);
      expect(mode(full)).toBe(0o600);
      const raw = readFileSync(full);
      expect(raw.toString('latin1')).not.toContain(secrets.stationKey);
      expect(raw.toString('latin1')).not.toContain(secrets.cloudCredentials!.clientSecret);
    }
    expect(existsSync(path.join(dir, 'station.key'))).toBe(false);
    expect(existsSync(path.join(dir, 'cloud-credentials.json'))).toBe(false);
    expect(JSON.stringify(log.mock.calls)).not.toContain(secrets.stationKey);

    // Next start: the same secrets come back.
    await expect(loadStationSecrets(dir, store, { platform: 'linux' })).resolves.toEqual({ secrets, store: choice });
  });

  it('moves the plain-Node 0600 files into the OS secret store and removes them only after reading back', async () => {
    const key = randomBytes(32).toString('base64');
    writeFileSync(path.join(dir, 'station.key'), `${key}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, 'cloud-credentials.json'), JSON.stringify({ clientId: 'station-old', clientSecret: 's3cret' }), { mode: 0o600 });
    const { secrets } = await loadStationSecrets(dir, fakeStore(), { platform: 'darwin' });
    expect(secrets).toEqual({ stationKey: key, cloudCredentials: { clientId: 'station-old', clientSecret: 's3cret' } });
    expect(existsSync(path.join(dir, 'station.key'))).toBe(false);
    expect(existsSync(path.join(dir, 'cloud-credentials.json'))).toBe(false);
    expect(existsSync(path.join(dir, SEALED_STATION_KEY_FILE))).toBe(true);
  });

  it('keeps the plain file when the store does not give the sealed secret back unchanged', async () => {
    const key = randomBytes(32).toString('base64');
    writeFileSync(path.join(dir, 'station.key'), `${key}\n`, { mode: 0o600 });
    const store = fakeStore();
    store.decryptStringAsync.mockResolvedValueOnce({ result: randomBytes(32).toString('base64'), shouldReEncrypt: false });
    await expect(loadStationSecrets(dir, store, { platform: 'linux' })).rejects.toMatchObject({ message: expect.stringContaining('did not give the station key back') });
    expect(readFileSync(path.join(dir, 'station.key'), 'utf8').trim()).toBe(key);
    expect(existsSync(path.join(dir, SEALED_STATION_KEY_FILE))).toBe(false);
  });

  it('without an OS secret store keeps the 0600 files, like plain Node, and says why', async () => {
    const log = vi.fn();
    const { secrets, store } = await loadStationSecrets(dir, fakeStore({ backend: 'basic_text' }), { log, platform: 'linux' });
    expect(store).toMatchObject({ kind: 'file' });
    const keyFile = path.join(dir, 'station.key');
    expect(mode(keyFile)).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(secrets.stationKey);
    expect(JSON.parse(readFileSync(path.join(dir, 'cloud-credentials.json'), 'utf8'))).toEqual(secrets.cloudCredentials);
    expect(existsSync(path.join(dir, SEALED_STATION_KEY_FILE))).toBe(false);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('stays in a 0600 file'));
    expect(JSON.stringify(log.mock.calls)).not.toContain(secrets.stationKey);
    // The same files serve the next start.
    await expect(loadStationSecrets(dir, fakeStore({ available: false }), { platform: 'linux' })).resolves.toMatchObject({ secrets });
  });

  it('refuses to start, and never makes a new key, when sealed secrets exist but the store is unavailable', async () => {
    await loadStationSecrets(dir, fakeStore(), { platform: 'linux' });
    await expect(loadStationSecrets(dir, fakeStore({ available: false }), { platform: 'linux' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/station key is kept in the OS secret store, which is not available now .*unlock the keyring/),
    });
    expect(existsSync(path.join(dir, 'station.key'))).toBe(false);
  });

  it('reports sealed secrets that do not decrypt to a valid key as damaged', async () => {
    const store = fakeStore();
    await loadStationSecrets(dir, store, { platform: 'linux' });
    store.decryptStringAsync.mockResolvedValueOnce({ result: 'not-a-key', shouldReEncrypt: false });
    await expect(loadStationSecrets(dir, store, { platform: 'linux' })).rejects.toMatchObject({ message: expect.stringContaining('station key in the OS secret store is damaged') });
  });

  it('re-seals a secret when the OS asks for it (key rotation)', async () => {
    const store = fakeStore();
    const { secrets } = await loadStationSecrets(dir, store, { platform: 'linux' });
    store.encryptStringAsync.mockClear();
    store.shouldReEncrypt = true;
    await expect(loadStationSecrets(dir, store, { platform: 'linux' })).resolves.toMatchObject({ secrets });
    expect(store.encryptStringAsync).toHaveBeenCalledWith(secrets.stationKey);
  });
});
