import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface EmbeddedCloudCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * The embedded cloud's API client credentials, kept in a 0600 file in the data folder (the plain
 * Node equivalent of Electron's safeStorage), created on first start.
 */
export function loadOrCreateCredentials(path: string): EmbeddedCloudCredentials {
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<EmbeddedCloudCredentials>;
    if (typeof parsed.clientId === 'string' && typeof parsed.clientSecret === 'string') {
      return { clientId: parsed.clientId, clientSecret: parsed.clientSecret };
    }
  }
  const created = {
    clientId: `station-${randomBytes(6).toString('hex')}`,
    clientSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(path, JSON.stringify(created), { mode: 0o600 });
  return created;
}
