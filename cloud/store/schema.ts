/**
 * The cloud's schema as ordered migrations, one SQL script per dialect for each version. SQLite
 * records how many ran in `PRAGMA user_version`, PostgreSQL in `flashline_schema_version`.
 * Append new migrations, never edit a released one.
 *
 * Version 1 was SQLite only. PostgreSQL support began at version 2: its version-1 script creates
 * the whole version-2 schema and its version-2 script is empty, so from version 3 on both lists
 * grow together. A test checks that both stores end with the same tables and columns.
 *
 * Shaped after Blynk's model: organisations (with sub-organisations) own users, device templates,
 * OAuth2 clients and static tokens; a static token becomes a device on its first connect
 * (`devices.static_token_id`), then can be claimed into another organisation (`claimed_org_id`).
 */
export interface Migration {
  sqlite: string;
  postgres: string;
}

/** The schema as SQLite version 1 created it. */
const SQLITE_V1 = `
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
  `;

/**
 * Version 2: sub-organisations, users, client kinds, console batches, static-token deletion and
 * voids, and devices that can be ownerless, orgless (disclaimed) or still provisioning. The devices
 * table is rebuilt (SQLite cannot drop NOT NULL) and keeps only a SHA-256 of each AuthToken: the
 * AuthToken of a static token stays readable in `static_tokens` (the manufacturer exports it, as
 * on Blynk); a dynamic device's AuthToken is shown once, when it is made, and never again.
 */
const SQLITE_V2 = `
  ALTER TABLE organizations ADD COLUMN parent_id INTEGER REFERENCES organizations(id);
  CREATE INDEX organizations_parent ON organizations(parent_id);

  CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'user')),
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX users_org ON users(org_id, id);

  CREATE UNIQUE INDEX device_templates_blynk_id ON device_templates(org_id, blynk_template_id);

  ALTER TABLE oauth_clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'station'));
  ALTER TABLE oauth_clients ADD COLUMN name TEXT NOT NULL DEFAULT '';

  ALTER TABLE token_batches ADD COLUMN source TEXT NOT NULL DEFAULT 'station' CHECK (source IN ('station', 'console'));
  -- SHA-256 of the request's parameters (template, station, count, metadata rows): a requestId
  -- reused with anything else is a conflict.
  ALTER TABLE token_batches ADD COLUMN request_sha256 TEXT;

  ALTER TABLE static_tokens ADD COLUMN deleted_at INTEGER;
  ALTER TABLE static_tokens ADD COLUMN void_reason TEXT CHECK (void_reason IN ('voided', 'burned'));
  ALTER TABLE static_tokens ADD COLUMN voided_at INTEGER;
  ALTER TABLE static_tokens ADD COLUMN void_station_id TEXT;

  CREATE TABLE devices_v2 (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL after a disclaim: the device returns to its creator on its next connect.
    org_id                INTEGER REFERENCES organizations(id),
    -- NULL while a dynamic (provisioned) device has not connected yet.
    template_id           INTEGER REFERENCES device_templates(id),
    auth_token_hash       TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    static_token_id       INTEGER UNIQUE REFERENCES static_tokens(id),
    owner_id              INTEGER REFERENCES users(id),
    -- JSON object: metadata field name -> value.
    metadata              TEXT NOT NULL DEFAULT '{}',
    connected             INTEGER NOT NULL DEFAULT 0 CHECK (connected IN (0, 1)),
    last_connected_at     INTEGER,
    provision_state       TEXT CHECK (provision_state IN ('pending', 'done')),
    provision_expires_at  INTEGER,
    created_at            INTEGER NOT NULL
  );
  INSERT INTO devices_v2 (id, org_id, template_id, auth_token_hash, name, static_token_id, connected, last_connected_at, created_at)
    SELECT id, org_id, template_id, sha256_hex(auth_token), name, static_token_id, connected, last_connected_at, created_at FROM devices;
  DROP TABLE devices;
  ALTER TABLE devices_v2 RENAME TO devices;
  CREATE INDEX devices_org ON devices(org_id, id);
`;

/** The version-2 schema, created in one go on PostgreSQL. */
const POSTGRES_V2 = `
  CREATE TABLE organizations (
    id          INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    parent_id   INTEGER REFERENCES organizations(id)
  );
  CREATE INDEX organizations_parent ON organizations(parent_id);

  CREATE TABLE users (
    id          INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'user')),
    created_at  BIGINT NOT NULL
  );
  CREATE INDEX users_org ON users(org_id, id);

  CREATE TABLE device_templates (
    id                 INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    name               TEXT NOT NULL,
    blynk_template_id  TEXT NOT NULL,
    metadata_fields    TEXT NOT NULL,
    qr_payload_format  TEXT NOT NULL DEFAULT '{qrToken}+{orgId}',
    created_at         BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX device_templates_blynk_id ON device_templates(org_id, blynk_template_id);

  CREATE TABLE oauth_clients (
    client_id    TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'station')),
    name         TEXT NOT NULL DEFAULT ''
  );

  CREATE TABLE oauth_access_tokens (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
  );
  CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens(client_id, expires_at);

  CREATE TABLE oauth_refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
  );
  CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens(client_id, expires_at);

  CREATE TABLE token_batches (
    id              TEXT PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    template_id     INTEGER NOT NULL REFERENCES device_templates(id),
    station_id      TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    token_count     INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    source          TEXT NOT NULL DEFAULT 'station' CHECK (source IN ('station', 'console')),
    request_sha256  TEXT,
    UNIQUE (org_id, request_id)
  );

  CREATE TABLE static_tokens (
    id               INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    qr_token         TEXT NOT NULL UNIQUE,
    device_token     TEXT NOT NULL UNIQUE,
    org_id           INTEGER NOT NULL REFERENCES organizations(id),
    template_id      INTEGER NOT NULL REFERENCES device_templates(id),
    batch_id         TEXT REFERENCES token_batches(id),
    created_at       BIGINT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'UNCLAIMED' CHECK (status IN ('CLAIMED', 'UNCLAIMED')),
    owner_id         INTEGER,
    device_id        INTEGER,
    claimed_org_id   INTEGER,
    metadata         TEXT,
    deleted_at       BIGINT,
    void_reason      TEXT CHECK (void_reason IN ('voided', 'burned')),
    voided_at        BIGINT,
    void_station_id  TEXT
  );
  CREATE INDEX static_tokens_org ON static_tokens(org_id, id);
  CREATE INDEX static_tokens_batch ON static_tokens(batch_id, id);

  CREATE TABLE devices (
    id                    INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id                INTEGER REFERENCES organizations(id),
    template_id           INTEGER REFERENCES device_templates(id),
    auth_token_hash       TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    static_token_id       INTEGER UNIQUE REFERENCES static_tokens(id),
    owner_id              INTEGER REFERENCES users(id),
    metadata              TEXT NOT NULL DEFAULT '{}',
    connected             INTEGER NOT NULL DEFAULT 0 CHECK (connected IN (0, 1)),
    last_connected_at     BIGINT,
    provision_state       TEXT CHECK (provision_state IN ('pending', 'done')),
    provision_expires_at  BIGINT,
    created_at            BIGINT NOT NULL
  );
  CREATE INDEX devices_org ON devices(org_id, id);

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
    completed_at      BIGINT NOT NULL,
    received_at       BIGINT NOT NULL,
    PRIMARY KEY (org_id, record_id)
  );
  CREATE INDEX device_records_token ON device_records(static_token_id);
`;

export const CLOUD_MIGRATIONS: readonly Migration[] = [
  { sqlite: SQLITE_V1, postgres: POSTGRES_V2 },
  { sqlite: SQLITE_V2, postgres: '' },
];
