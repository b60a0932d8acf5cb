-- SPEC §7: server-side sessions and a second factor (TOTP).

-- A session: the cookie carries only a random key; this row holds its
-- state. The key itself is not stored, only its SHA-256, so that a copy
-- of the database does not hand out live sessions.
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    key_hash TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    -- A random id of the signed-in session, kept in its state too, so that
    -- a page can tell "this session" from the others.
    sid TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sessions_key ON sessions (key_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A user's TOTP secret (encrypted at rest), confirmed once a code from it
-- was given; `last_step` is the newest time step accepted, so that each
-- code is accepted once.
CREATE TABLE totp_secrets (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, stored as SHA-256 of the code.
CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
