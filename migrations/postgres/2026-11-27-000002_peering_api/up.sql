-- The Automated Peering API: bearer tokens (from a PeeringDB code, or API
-- keys) and route-server session requests.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    peeringdb_user_id BIGINT,
    customer_id BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    allowed_asns TEXT NOT NULL,
    other_asns TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_customer ON api_tokens (customer_id);

CREATE TABLE peering_sessions (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    connection_id BIGINT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    route_server_id BIGINT NOT NULL REFERENCES route_servers (id) ON DELETE CASCADE,
    family INTEGER NOT NULL,
    member_asn BIGINT NOT NULL,
    member_ip TEXT NOT NULL,
    rs_asn BIGINT NOT NULL,
    rs_ip TEXT NOT NULL,
    rs_is_local BOOLEAN NOT NULL,
    location_id TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX peering_sessions_session_id ON peering_sessions (session_id);
CREATE UNIQUE INDEX peering_sessions_live ON peering_sessions (route_server_id, connection_id, family) WHERE status <> 'deleted';
CREATE INDEX peering_sessions_member ON peering_sessions (member_asn, id);
CREATE INDEX peering_sessions_rs ON peering_sessions (route_server_id, status);
