import { hashClientSecret, newBearerToken, sha256Hex, UNMATCHABLE_SECRET_HASH, verifyClientSecret } from '../secrets.js';
import type { CloudDb } from './cloud-db.js';
import type { SqlExecutor } from './sql/sql-db.js';

/**
 * `api`: an organisation's API client (the console, a backend): every endpoint, within the
 * organisation's subtree. `station`: a factory station: only the station endpoints (generate a
 * batch, push device records and voids), so credentials left on a factory floor cannot claim,
 * delete or export anything.
 */
export type ClientKind = 'api' | 'station';

export interface OAuthClientIdentity {
  clientId: string;
  orgId: number;
  kind: ClientKind;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresInS: number;
}

export interface TokenLifetimes {
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
}

/**
 * OAuth2 clients (secret hashed with scrypt) and the bearer/refresh tokens issued to them (stored
 * as SHA-256). Nothing here keeps a token or secret in clear.
 */
export class OAuthStore {
  constructor(
    private readonly db: CloudDb,
    private readonly lifetimes: TokenLifetimes,
  ) {}

  /** Creates the client or replaces its secret (and its organisation and kind). */
  async upsertClient(
    client: { clientId: string; orgId: number; secret: string; kind?: ClientKind; name?: string },
    now: number,
  ): Promise<void> {
    const hash = await hashClientSecret(client.secret);
    await this.db.run(
      `INSERT INTO oauth_clients (client_id, org_id, secret_hash, created_at, kind, name) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET org_id = excluded.org_id, secret_hash = excluded.secret_hash,
         kind = excluded.kind, name = excluded.name`,
      [client.clientId, client.orgId, hash, now, client.kind ?? 'api', client.name ?? ''],
    );
  }

  /** The client when the secret matches; unknown ids cost the same scrypt as wrong secrets. */
  async authenticateClient(clientId: string, secret: string): Promise<OAuthClientIdentity | null> {
    const row = await this.db.get<{ client_id: string; org_id: number; kind: ClientKind; secret_hash: string }>(
      'SELECT client_id, org_id, kind, secret_hash FROM oauth_clients WHERE client_id = ?',
      [clientId],
    );
    const ok = await verifyClientSecret(secret, row?.secret_hash ?? UNMATCHABLE_SECRET_HASH);
    return ok && row ? { clientId: row.client_id, orgId: row.org_id, kind: row.kind } : null;
  }

  async issueTokens(client: OAuthClientIdentity, now: number): Promise<IssuedTokens> {
    return this.db.transaction((tx) => this.issueIn(tx, client, now));
  }

  private async issueIn(tx: SqlExecutor, client: OAuthClientIdentity, now: number): Promise<IssuedTokens> {
    const accessToken = newBearerToken();
    const refreshToken = newBearerToken();
    const { accessTokenTtlS, refreshTokenTtlS } = this.lifetimes;
    // Housekeeping: the client's expired tokens are useless; drop them whenever it gets new ones.
    await tx.run('DELETE FROM oauth_access_tokens WHERE client_id = ? AND expires_at <= ?', [client.clientId, now]);
    await tx.run('DELETE FROM oauth_refresh_tokens WHERE client_id = ? AND expires_at <= ?', [client.clientId, now]);
    await tx.run('INSERT INTO oauth_access_tokens (token_hash, client_id, org_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)', [
      sha256Hex(accessToken),
      client.clientId,
      client.orgId,
      now + accessTokenTtlS * 1000,
      now,
    ]);
    await tx.run('INSERT INTO oauth_refresh_tokens (token_hash, client_id, org_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)', [
      sha256Hex(refreshToken),
      client.clientId,
      client.orgId,
      now + refreshTokenTtlS * 1000,
      now,
    ]);
    return { accessToken, refreshToken, expiresInS: accessTokenTtlS };
  }

  /**
   * Spends a refresh token (each is good once, as on Blynk) and issues a new pair, in one
   * transaction. Null when the refresh token is unknown, expired, used, or another client's.
   */
  async refreshTokens(client: OAuthClientIdentity, refreshToken: string, now: number): Promise<IssuedTokens | null> {
    return this.db.transaction(async (tx) => {
      const spent = await tx.run('DELETE FROM oauth_refresh_tokens WHERE token_hash = ? AND client_id = ? AND expires_at > ?', [
        sha256Hex(refreshToken),
        client.clientId,
        now,
      ]);
      if (spent.changes !== 1) return null;
      return this.issueIn(tx, client, now);
    });
  }

  /** The client a bearer token speaks for, while it is unexpired. */
  async resolveAccessToken(accessToken: string, now: number): Promise<OAuthClientIdentity | null> {
    const row = await this.db.get<{ client_id: string; org_id: number; kind: ClientKind }>(
      `SELECT a.client_id, a.org_id, c.kind FROM oauth_access_tokens a JOIN oauth_clients c ON c.client_id = a.client_id
       WHERE a.token_hash = ? AND a.expires_at > ?`,
      [sha256Hex(accessToken), now],
    );
    return row ? { clientId: row.client_id, orgId: row.org_id, kind: row.kind } : null;
  }
}
