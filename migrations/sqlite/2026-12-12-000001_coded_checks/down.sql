-- Back to the tables without the CHECK constraints on the coded columns.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TEMP TABLE coded_checks_seq AS
    SELECT name, seq FROM sqlite_sequence WHERE name IN ('customers', 'affiliations');

CREATE TABLE customers_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO customers_old SELECT id, name, shortname, autsys, cust_type, status, date_joined,
    date_left, peeringdb_oauth, created_at, updated_at FROM customers;
DROP TABLE customers;
ALTER TABLE customers_old RENAME TO customers;
CREATE UNIQUE INDEX customers_shortname ON customers (shortname);
CREATE INDEX customers_autsys ON customers (autsys);
CREATE INDEX customers_name ON customers (name, id);

CREATE TABLE affiliations_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    privilege INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    last_login_from TEXT,
    last_login_via TEXT,
    confirmed_at TIMESTAMP
);
INSERT INTO affiliations_old SELECT id, user_id, customer_id, privilege, created_by, created_at,
    updated_at, last_login_at, last_login_from, last_login_via, confirmed_at FROM affiliations;
DROP TABLE affiliations;
ALTER TABLE affiliations_old RENAME TO affiliations;
CREATE UNIQUE INDEX affiliations_user_customer ON affiliations (user_id, customer_id);
CREATE INDEX affiliations_customer ON affiliations (customer_id);
CREATE INDEX affiliations_confirmed ON affiliations (created_by, confirmed_at);

UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE(
        (SELECT k.seq FROM coded_checks_seq k WHERE k.name = sqlite_sequence.name), 0))
    WHERE name IN ('customers', 'affiliations');
INSERT INTO sqlite_sequence (name, seq)
    SELECT k.name, k.seq FROM coded_checks_seq k
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = k.name);
DROP TABLE coded_checks_seq;

COMMIT;
PRAGMA foreign_keys = ON;
