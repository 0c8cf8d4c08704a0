import { hashClientSecret, newBearerToken, sha256Hex, UNMATCHABLE_SECRET_HASH, verifyClientSecret } from '../secrets.js';
import type { CloudDb } from './cloud-db.js';

export interface OAuthClientIdentity {
  clientId: string;
  orgId: number;
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

  /** Creates the client or replaces its secret. */
  async upsertClient(client: { clientId: string; orgId: number; secret: string }, now: number): Promise<void> {
    const hash = await hashClientSecret(client.secret);
    this.db
      .prepare(
        `INSERT INTO oauth_clients (client_id, org_id, secret_hash, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET org_id = excluded.org_id, secret_hash = excluded.secret_hash`,
      )
      .run(client.clientId, client.orgId, hash, now);
  }

  /** The client when the secret matches; unknown ids cost the same scrypt as wrong secrets. */
  async authenticateClient(clientId: string, secret: string): Promise<OAuthClientIdentity | null> {
    const row = this.db.prepare('SELECT client_id, org_id, secret_hash FROM oauth_clients WHERE client_id = ?').get(clientId) as
      | { client_id: string; org_id: number; secret_hash: string }
      | undefined;
    const ok = await verifyClientSecret(secret, row?.secret_hash ?? UNMATCHABLE_SECRET_HASH);
    return ok && row ? { clientId: row.client_id, orgId: row.org_id } : null;
  }

  issueTokens(client: OAuthClientIdentity, now: number): IssuedTokens {
    const accessToken = newBearerToken();
    const refreshToken = newBearerToken();
    const { accessTokenTtlS, refreshTokenTtlS } = this.lifetimes;
    this.db.transaction(() => {
      // Housekeeping: the client's expired tokens are useless; drop them whenever it gets new ones.
      this.db.prepare('DELETE FROM oauth_access_tokens WHERE client_id = ? AND expires_at <= ?').run(client.clientId, now);
      this.db.prepare('DELETE FROM oauth_refresh_tokens WHERE client_id = ? AND expires_at <= ?').run(client.clientId, now);
      this.db
        .prepare('INSERT INTO oauth_access_tokens (token_hash, client_id, org_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(sha256Hex(accessToken), client.clientId, client.orgId, now + accessTokenTtlS * 1000, now);
      this.db
        .prepare('INSERT INTO oauth_refresh_tokens (token_hash, client_id, org_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(sha256Hex(refreshToken), client.clientId, client.orgId, now + refreshTokenTtlS * 1000, now);
    })();
    return { accessToken, refreshToken, expiresInS: accessTokenTtlS };
  }

  /**
   * Spends a refresh token (each is good once, as on Blynk) and issues a new pair. Null when the
   * refresh token is unknown, expired, used, or belongs to another client.
   */
  refreshTokens(client: OAuthClientIdentity, refreshToken: string, now: number): IssuedTokens | null {
    const spent = this.db
      .prepare('DELETE FROM oauth_refresh_tokens WHERE token_hash = ? AND client_id = ? AND expires_at > ?')
      .run(sha256Hex(refreshToken), client.clientId, now);
    if (spent.changes !== 1) return null;
    return this.issueTokens(client, now);
  }

  /** The organisation and client a bearer token speaks for, while it is unexpired. */
  resolveAccessToken(accessToken: string, now: number): OAuthClientIdentity | null {
    const row = this.db
      .prepare('SELECT client_id, org_id FROM oauth_access_tokens WHERE token_hash = ? AND expires_at > ?')
      .get(sha256Hex(accessToken), now) as { client_id: string; org_id: number } | undefined;
    return row ? { clientId: row.client_id, orgId: row.org_id } : null;
  }
}
