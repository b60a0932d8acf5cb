CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    shortname TEXT NOT NULL,
    autsys BIGINT NOT NULL CHECK (autsys BETWEEN 1 AND 4294967295),
    cust_type INTEGER NOT NULL,
    status INTEGER NOT NULL,
    date_joined DATE,
    date_left DATE,
    peeringdb_oauth BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_shortname ON customers (shortname);
CREATE INDEX customers_autsys ON customers (autsys);
CREATE INDEX customers_name ON customers (name, id);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    peeringdb_id BIGINT,
    creator TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    superuser BOOLEAN NOT NULL DEFAULT FALSE,
    current_customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_peeringdb_id ON users (peeringdb_id);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_creator_username ON users (creator, username);

CREATE TABLE affiliations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    privilege INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    last_login_from TEXT,
    last_login_via TEXT
);
CREATE UNIQUE INDEX affiliations_user_customer ON affiliations (user_id, customer_id);
CREATE INDEX affiliations_customer ON affiliations (customer_id);

CREATE TABLE login_records (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    at TIMESTAMP NOT NULL,
    address TEXT NOT NULL,
    method TEXT NOT NULL
);
CREATE INDEX login_records_user_at ON login_records (user_id, at);
CREATE INDEX login_records_customer_at ON login_records (customer_id, at);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id);

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (username, address, at);

CREATE TABLE password_resets (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX password_resets_token ON password_resets (token_hash);
CREATE INDEX password_resets_user ON password_resets (user_id);
