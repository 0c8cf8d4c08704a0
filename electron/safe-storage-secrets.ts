import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import type { HostSecrets } from '../app/station-host-protocol.js';
import { loadOrCreateCredentials, type EmbeddedCloudCredentials } from '../core/app/station-secrets.js';
import { stationError } from '../common/errors.js';
import { FileStationKey, STATION_KEY_BYTES, STATION_KEY_FILE } from '../core/secrets/station-key.js';

/**
 * The station's secrets in the OS secret store (issue #7): the 32-byte station key (which seals
 * every AuthToken at rest) and the embedded cloud's client credentials, each encrypted with
 * Electron's `safeStorage` (macOS Keychain, Windows DPAPI, Linux libsecret/kwallet) and kept as a
 * 0600 file in the user-data folder. safeStorage exists only in the main process, so main decrypts
 * here and hands the plain values to the station core in the `start` message on the utility
 * process's private channel (app/station-host-protocol.ts) — never argv, env or a log line.
 *
 * Decisions, in order:
 * 1. A sealed file exists → it must be opened with safeStorage. If the secret store is unavailable
 *    (Linux: keyring locked or no desktop session) the app refuses to start with a sentence saying
 *    so: a new key would make every sealed AuthToken unreadable, so nothing is ever re-created.
 * 2. No sealed file, store available → the plain-Node 0600 file (if a previous version or
 *    `flashline` on the same folder made one) is sealed, the sealed copy is read back, and only
 *    then is the plain file removed. Otherwise a fresh secret is made and sealed.
 * 3. No sealed file, store unavailable (isAsyncEncryptionAvailable false, or Linux's `basic_text`
 *    backend, which encrypts with a hard-coded password and protects no better than file
 *    permissions) → the plain-Node 0600 file, exactly as `flashline` under Node keeps it; logged
 *    once (without the secret). Refusing would stop a headless line station that has no keyring.
 */
export const SEALED_STATION_KEY_FILE = 'station.key.sealed';
export const SEALED_CLOUD_CREDENTIALS_FILE = 'cloud-credentials.sealed';
export const PLAIN_CLOUD_CREDENTIALS_FILE = 'cloud-credentials.json';

/** The part of Electron's safeStorage used here (mocked in tests). */
export type SecretStore = Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync'> &
  Partial<Pick<SafeStorage, 'getSelectedStorageBackend'>>;

export type SecretStoreChoice = { kind: 'safe-storage' } | { kind: 'file'; reason: string };

export interface LoadedSecrets {
  secrets: HostSecrets;
  store: SecretStoreChoice;
}

export async function chooseSecretStore(store: SecretStore, platform: NodeJS.Platform = process.platform): Promise<SecretStoreChoice> {
  if (!(await store.isAsyncEncryptionAvailable())) {
    return { kind: 'file', reason: 'the OS secret store is not available' };
  }
  if (platform === 'linux' && store.getSelectedStorageBackend) {
    const backend = store.getSelectedStorageBackend();
    if (backend === 'basic_text' || backend === 'unknown') {
      return { kind: 'file', reason: `no keyring on this desktop (safeStorage backend ${backend})` };
    }
  }
  return { kind: 'safe-storage' };
}

interface SealedSecret {
  sealedPath: string;
  plainPath: string;
  /** Reads the plain-Node file (validating it); null when absent. */
  readPlain(): string | null;
  create(): string;
  valid(value: string): boolean;
  what: string;
}

/** Writes a file atomically with mode 0600 (temp file + rename: a crash never leaves half a secret). */
function writeSecretFile(path: string, data: Buffer): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, data, { mode: 0o600 });
  renameSync(temp, path);
}

async function openSealed(store: SecretStore, secret: SealedSecret): Promise<string> {
  const { result, shouldReEncrypt } = await store.decryptStringAsync(readFileSync(secret.sealedPath));
  if (!secret.valid(result)) {
    throw stationError('INTERNAL', `The ${secret.what} in the OS secret store is damaged; restore ${secret.sealedPath} from backup.`);
  }
  // The OS rotated its key: store the value again under the current one.
  if (shouldReEncrypt) writeSecretFile(secret.sealedPath, await store.encryptStringAsync(result));
  return result;
}

async function loadSealedSecret(store: SecretStore, choice: SecretStoreChoice, secret: SealedSecret, log: (line: string) => void): Promise<string> {
  if (existsSync(secret.sealedPath)) {
    if (choice.kind !== 'safe-storage') {
      throw stationError(
        'INTERNAL',
        `The ${secret.what} is kept in the OS secret store, which is not available now (${choice.reason}); unlock the keyring (Linux: log in to the desktop session) and start Flashline again.`,
      );
    }
    return openSealed(store, secret);
  }
  if (choice.kind !== 'safe-storage') {
    log(`${choice.reason}: the ${secret.what} stays in a 0600 file in the data folder`);
    return secret.readPlain() ?? secret.create();
  }
  const plain = secret.readPlain();
  const value = plain ?? secret.create();
  writeSecretFile(secret.sealedPath, await store.encryptStringAsync(value));
  // Read back before the plain copy goes: a store that cannot decrypt what it sealed loses nothing.
  if ((await openSealed(store, secret)) !== value) {
    unlinkSync(secret.sealedPath);
    throw stationError('INTERNAL', `The OS secret store did not give the ${secret.what} back unchanged; it stays where it was.`);
  }
  if (plain !== null) {
    unlinkSync(secret.plainPath);
    log(`the ${secret.what} moved into the OS secret store`);
  }
  return value;
}

function isStationKey(value: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === STATION_KEY_BYTES;
}

function parseCredentials(value: string): EmbeddedCloudCredentials | null {
  try {
    const parsed = JSON.parse(value) as Partial<EmbeddedCloudCredentials>;
    return typeof parsed.clientId === 'string' && typeof parsed.clientSecret === 'string' ? { clientId: parsed.clientId, clientSecret: parsed.clientSecret } : null;
  } catch {
    return null;
  }
}

/** Loads (or makes) the station's secrets for a data folder, by the decisions above. */
export async function loadStationSecrets(
  dataDir: string,
  store: SecretStore,
  options: { log?: (line: string) => void; platform?: NodeJS.Platform } = {},
): Promise<LoadedSecrets> {
  const log = options.log ?? (() => undefined);
  const choice = await chooseSecretStore(store, options.platform);
  const keyPath = join(dataDir, STATION_KEY_FILE);
  const stationKey = await loadSealedSecret(
    store,
    choice,
    {
      what: 'station key',
      sealedPath: join(dataDir, SEALED_STATION_KEY_FILE),
      plainPath: keyPath,
      // FileStationKey validates (32 bytes, tightens the mode) and creates when absent.
      readPlain: () => (existsSync(keyPath) ? new FileStationKey(keyPath).loadKey().toString('base64') : null),
      create: () => (choice.kind === 'safe-storage' ? randomBytes(STATION_KEY_BYTES).toString('base64') : new FileStationKey(keyPath).loadKey().toString('base64')),
      valid: isStationKey,
    },
    log,
  );
  const credentialsPath = join(dataDir, PLAIN_CLOUD_CREDENTIALS_FILE);
  const credentials = await loadSealedSecret(
    store,
    choice,
    {
      what: 'cloud credentials',
      sealedPath: join(dataDir, SEALED_CLOUD_CREDENTIALS_FILE),
      plainPath: credentialsPath,
      readPlain: () => {
        if (!existsSync(credentialsPath)) return null;
        const parsed = parseCredentials(readFileSync(credentialsPath, 'utf8'));
        return parsed ? JSON.stringify(parsed) : null;
      },
      create: () => {
        if (choice.kind === 'safe-storage') {
          return JSON.stringify({ clientId: `station-${randomBytes(6).toString('hex')}`, clientSecret: randomBytes(32).toString('base64url') });
        }
        return JSON.stringify(loadOrCreateCredentials(credentialsPath));
      },
      valid: (value) => parseCredentials(value) !== null,
    },
    log,
  );
  return { secrets: { stationKey, cloudCredentials: parseCredentials(credentials)! }, store: choice };
}
