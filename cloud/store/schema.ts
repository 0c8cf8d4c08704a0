/**
 * The cloud's SQLite schema as ordered migrations; `PRAGMA user_version` records how many ran.
 * Append new migrations, never edit a released one.
 *
 * Shaped after Blynk's model so later issues can grow into it: organisations own device templates,
 * OAuth2 clients and static tokens; a static token becomes a device on its first connect
 * (`devices.static_token_id`), then can be claimed into another organisation (`claimed_org_id`).
 */
export const CLOUD_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  );

  CREATE TABLE device_templates (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    name               TEXT NOT NULL,
    -- What firmware declares as BLYNK_TEMPLATE_ID.
    blynk_template_id  TEXT NOT NULL,
    -- JSON array of { name, type }: the exact CSV headers accepted for this template.
    metadata_fields    TEXT NOT NULL,
    -- What the QR label encodes; Blynk's apps accept "{qrToken}+{orgId}".
    qr_payload_format  TEXT NOT NULL DEFAULT '{qrToken}+{orgId}',
    created_at         INTEGER NOT NULL
  );

  CREATE TABLE oauth_clients (
    client_id    TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL
  );

  -- Bearer and refresh tokens are stored as SHA-256 of the token, never the token.
  CREATE TABLE oauth_access_tokens (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens(client_id, expires_at);

  CREATE TABLE oauth_refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens(client_id, expires_at);

  -- One station request for fresh tokens. (org_id, request_id) makes generation idempotent.
  CREATE TABLE token_batches (
    id           TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    template_id  INTEGER NOT NULL REFERENCES device_templates(id),
    station_id   TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    token_count  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, request_id)
  );

  CREATE TABLE static_tokens (
    id              INTEGER PRIMARY KEY,
    qr_token        TEXT NOT NULL UNIQUE,
    device_token    TEXT NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    template_id     INTEGER NOT NULL REFERENCES device_templates(id),
    batch_id        TEXT REFERENCES token_batches(id),
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'UNCLAIMED' CHECK (status IN ('CLAIMED', 'UNCLAIMED')),
    owner_id        INTEGER,
    device_id       INTEGER,
    claimed_org_id  INTEGER,
    -- JSON object of metadata values (from a CSV row), or NULL.
    metadata        TEXT
  );
  CREATE INDEX static_tokens_org ON static_tokens(org_id, id);
  CREATE INDEX static_tokens_batch ON static_tokens(batch_id, id);

  CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    template_id        INTEGER NOT NULL REFERENCES device_templates(id),
    auth_token         TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    static_token_id    INTEGER UNIQUE REFERENCES static_tokens(id),
    -- Set by the device gateway (a later issue); read by /external/api/isHardwareConnected.
    connected          INTEGER NOT NULL DEFAULT 0 CHECK (connected IN (0, 1)),
    last_connected_at  INTEGER,
    created_at         INTEGER NOT NULL
  );

  -- What a station did with a token. (org_id, record_id) is the idempotency key of the push.
  CREATE TABLE device_records (
    org_id            INTEGER NOT NULL REFERENCES organizations(id),
    record_id         TEXT NOT NULL,
    static_token_id   INTEGER NOT NULL REFERENCES static_tokens(id),
    qr_token          TEXT NOT NULL,
    mac               TEXT,
    chip              TEXT,
    station_id        TEXT NOT NULL,
    result            TEXT NOT NULL CHECK (result IN ('passed', 'failed')),
    payload_sha256    TEXT,
    firmware_version  TEXT,
    label_sheet_id    TEXT,
    label_position    INTEGER,
    completed_at      INTEGER NOT NULL,
    received_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, record_id)
  );
  CREATE INDEX device_records_token ON device_records(static_token_id);
  `,
];
