-- SPEC §6: access granted by PeeringDB follows PeeringDB over time.

-- When PeeringDB last confirmed a PeeringDB-made link (a login or a
-- re-check). Existing links start at the user's last PeeringDB login, or
-- the link's creation, so the upgrade removes nothing a login would keep.
ALTER TABLE affiliations ADD COLUMN confirmed_at TIMESTAMP;
UPDATE affiliations SET confirmed_at = COALESCE(
    (SELECT MAX(l.at) FROM login_records l
      WHERE l.user_id = affiliations.user_id AND l.method = 'peeringdb'),
    created_at)
WHERE created_by = 'peeringdb';
CREATE INDEX affiliations_confirmed ON affiliations (created_by, confirmed_at);

-- A removal that sticks: staff or the customer's admin removed the link
-- that PeeringDB made, so later logins skip this customer for this
-- PeeringDB identity (kept when the user is deleted: the next login would
-- otherwise bring the link back).
CREATE TABLE peeringdb_blocks (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    peeringdb_id BIGINT NOT NULL,
    blocked_by TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX peeringdb_blocks_key ON peeringdb_blocks (peeringdb_id, customer_id);
CREATE INDEX peeringdb_blocks_customer ON peeringdb_blocks (customer_id);

-- The refresh token of a user's last PeeringDB login, encrypted at rest.
CREATE TABLE peeringdb_tokens (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Leases for background work: one instance does each batch.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_run_at TIMESTAMP
);
