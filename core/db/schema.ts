import { TOKEN_STATES, TOKEN_TRANSITIONS } from '../../common/token-state.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
 * a shipped migration is never edited.
 */
const stateList = TOKEN_STATES.map((s) => `'${s}'`).join(', ');

// The token state machine is enforced by the database as well as by the code: an UPDATE that is
// not an edge of TOKEN_TRANSITIONS aborts, so no bug above can put a used token back in the queue.
const legalEdges = Object.entries(TOKEN_TRANSITIONS)
  .flatMap(([from, tos]) => tos.map((to) => `(OLD.state = '${from}' AND NEW.state = '${to}')`))
  .join(' OR ');

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    cloud_batch_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    org_id INTEGER NOT NULL,
    pulled_at TEXT NOT NULL,
    token_count INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches(id),
    auth_token TEXT NOT NULL UNIQUE,
    qr_token TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN (${stateList})),
    slot_id TEXT,
    board_port TEXT,
    board_mac TEXT,
    failure_code TEXT,
    payload_sha256 TEXT,
    label_sheet_id TEXT,
    label_position INTEGER,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX tokens_state ON tokens(state, id);

  CREATE TRIGGER tokens_legal_transition BEFORE UPDATE OF state ON tokens
  WHEN OLD.state <> NEW.state AND NOT (${legalEdges})
  BEGIN
    SELECT RAISE(ABORT, 'illegal token transition');
  END;

  CREATE TRIGGER tokens_no_delete BEFORE DELETE ON tokens
  BEGIN
    SELECT RAISE(ABORT, 'tokens are never deleted');
  END;

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    token_id INTEGER REFERENCES tokens(id),
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    detail TEXT
  ) STRICT;

  CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
  END;
  CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
  END;

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE sheets (
    id TEXT PRIMARY KEY,
    stock_id TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
  ) STRICT;

  -- A label row exists only for a board that passed its self-test; its position is the order in
  -- which boards were completed on that sheet.
  CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    sheet_id TEXT NOT NULL REFERENCES sheets(id),
    position INTEGER NOT NULL,
    token_id INTEGER NOT NULL UNIQUE REFERENCES tokens(id),
    slot_index INTEGER NOT NULL,
    serial TEXT NOT NULL,
    mac TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (sheet_id, position)
  ) STRICT;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: printing. A label is printed once (its print job is recorded); a reprint is an audited copy.
  `
  CREATE TABLE print_jobs (
    id INTEGER PRIMARY KEY,
    sheet_id TEXT NOT NULL REFERENCES sheets(id),
    first_position INTEGER NOT NULL,
    label_count INTEGER NOT NULL,
    printer TEXT NOT NULL,
    reprint_of INTEGER REFERENCES print_jobs(id),
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    detail TEXT,
    created_at TEXT NOT NULL
  ) STRICT;
  ALTER TABLE labels ADD COLUMN print_job_id INTEGER REFERENCES print_jobs(id);
  `,
  // 3: AuthTokens encrypted at rest, and the sync engine's outbox bookkeeping. `auth_lookup` keeps
  // the column's UNIQUE index but holds a keyed HMAC digest; `auth_sealed` the AES-256-GCM sealed
  // token. Rows from earlier builds keep their plain value until openStationDatabase seals them
  // (core/secrets/database-sealer.ts), in the same start-up, before anything reads the queue.
  // An outbox row the cloud refused for good is `held` (kept, shown, no longer retried).
  `
  ALTER TABLE tokens RENAME COLUMN auth_token TO auth_lookup;
  ALTER TABLE tokens ADD COLUMN auth_sealed TEXT;
  ALTER TABLE outbox ADD COLUMN last_error TEXT;
  ALTER TABLE outbox ADD COLUMN held_at TEXT;
  CREATE INDEX outbox_pending ON outbox(sent_at, held_at, id);
  `,
  // 4: self-test runs, per board (token), append-only: each check with its value, limit, duration
  // and reason as JSON, and the raw serial log with any token redacted before it was stored.
  `
  CREATE TABLE test_runs (
    id INTEGER PRIMARY KEY,
    token_id INTEGER REFERENCES tokens(id),
    board_mac TEXT,
    slot_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('provision', 'retest', 'dynamic')),
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    reason TEXT,
    checks TEXT NOT NULL,
    log TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX test_runs_token ON test_runs(token_id, id);
  CREATE TRIGGER test_runs_append_only_update BEFORE UPDATE ON test_runs
  BEGIN
    SELECT RAISE(ABORT, 'test runs are append-only');
  END;
  CREATE TRIGGER test_runs_append_only_delete BEFORE DELETE ON test_runs
  BEGIN
    SELECT RAISE(ABORT, 'test runs are append-only');
  END;
  `,
  // 5: per-token metadata from a supervisor's CSV pull (one token per CSV row: serial number, MAC,
  // name, …), as the cloud returned it with the batch: a JSON object of template field -> value.
  `
  ALTER TABLE tokens ADD COLUMN metadata TEXT;
  `,
];
