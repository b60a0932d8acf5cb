-- Issue 11: CHECK constraints on the coded columns (src/domain/codes.rs):
-- customer type 1-4, customer status 1-3, privilege 1-2, and how an
-- affiliation was made. SQLite adds a CHECK only by rebuilding the table
-- (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off,
-- copy into a new table, drop the old one, rename, indexes back, check the
-- foreign keys, all in one transaction. Rows and ids are kept; a row that
-- breaks a new constraint stops the migration with nothing changed.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TEMP TABLE coded_checks_seq AS
    SELECT name, seq FROM sqlite_sequence WHERE name IN ('customers', 'affiliations');

CREATE TABLE customers_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    shortname TEXT NOT NULL,
    autsys BIGINT NOT NULL CHECK (autsys BETWEEN 1 AND 4294967295),
    cust_type INTEGER NOT NULL CONSTRAINT customers_cust_type_code CHECK (cust_type IN (1, 2, 3, 4)),
    status INTEGER NOT NULL CONSTRAINT customers_status_code CHECK (status IN (1, 2, 3)),
    date_joined DATE,
    date_left DATE,
    peeringdb_oauth BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO customers_new (id, name, shortname, autsys, cust_type, status, date_joined,
        date_left, peeringdb_oauth, created_at, updated_at)
    SELECT id, name, shortname, autsys, cust_type, status, date_joined,
        date_left, peeringdb_oauth, created_at, updated_at
    FROM customers;
DROP TABLE customers;
ALTER TABLE customers_new RENAME TO customers;
CREATE UNIQUE INDEX customers_shortname ON customers (shortname);
CREATE INDEX customers_autsys ON customers (autsys);
CREATE INDEX customers_name ON customers (name, id);

CREATE TABLE affiliations_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    privilege INTEGER NOT NULL CONSTRAINT affiliations_privilege_code CHECK (privilege IN (1, 2)),
    created_by TEXT NOT NULL CONSTRAINT affiliations_created_by_code
        CHECK (created_by IN ('peeringdb', 'admin', 'cli')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    last_login_from TEXT,
    last_login_via TEXT,
    confirmed_at TIMESTAMP
);
INSERT INTO affiliations_new (id, user_id, customer_id, privilege, created_by, created_at,
        updated_at, last_login_at, last_login_from, last_login_via, confirmed_at)
    SELECT id, user_id, customer_id, privilege, created_by, created_at,
        updated_at, last_login_at, last_login_from, last_login_via, confirmed_at
    FROM affiliations;
DROP TABLE affiliations;
ALTER TABLE affiliations_new RENAME TO affiliations;
CREATE UNIQUE INDEX affiliations_user_customer ON affiliations (user_id, customer_id);
CREATE INDEX affiliations_customer ON affiliations (customer_id);
CREATE INDEX affiliations_confirmed ON affiliations (created_by, confirmed_at);

-- Ids are never handed out twice: keep the sequences past deleted rows.
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE(
        (SELECT k.seq FROM coded_checks_seq k WHERE k.name = sqlite_sequence.name), 0))
    WHERE name IN ('customers', 'affiliations');
INSERT INTO sqlite_sequence (name, seq)
    SELECT k.name, k.seq FROM coded_checks_seq k
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = k.name);
DROP TABLE coded_checks_seq;

COMMIT;
PRAGMA foreign_keys = ON;
