-- SPEC §8: password failures count per account (from anywhere) and per
-- client address (across accounts); a browser holding a device cookie of
-- the account counts apart (its own 5).

-- The SHA-256 of a device cookie that was valid for the account at the
-- failure, or NULL for a browser without one.
ALTER TABLE login_failures ADD COLUMN device TEXT;
DROP INDEX login_failures_key;
CREATE INDEX login_failures_account ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- A refusal in force until `ends_at`: of an account (`account:USERNAME`),
-- of one browser of an account (`device:HASH:USERNAME`) or of a client
-- address (`address:ADDRESS`).
CREATE TABLE login_lockouts (
    id BIGSERIAL PRIMARY KEY,
    subject TEXT NOT NULL,
    ends_at TIMESTAMP NOT NULL
);
CREATE INDEX login_lockouts_subject ON login_lockouts (subject, ends_at);

-- Browsers that signed in to an account: the SHA-256 of the random device
-- cookie they were given (never the cookie itself).
CREATE TABLE login_devices (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX login_devices_token_user ON login_devices (token_hash, user_id);
CREATE INDEX login_devices_user ON login_devices (user_id);
