-- SPEC §8: mail waits in the database until the background task sends it.
CREATE TABLE mail_queue (
    id BIGSERIAL PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    failed_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at);

-- SPEC §3: a custadmin invites a colleague by email; single use, 7 days.
CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    privilege INTEGER NOT NULL,
    known BOOLEAN NOT NULL,
    token_hash TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_customer ON invitations (customer_id);

-- SPEC §8: mails that "Forgot password" and invitations sent, per account
-- or address, for their hourly limits.
CREATE TABLE mail_limits (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_limits_subject ON mail_limits (kind, subject, created_at);
