-- draft-ietf-grow-peering-api-01 (issue 15).

-- Which sessions each POST /sessions request named, and in which
-- orientation: GET /sessions?request_id= answers in it.
CREATE TABLE peering_api_requests (
    request_id TEXT NOT NULL,
    session_pk BIGINT NOT NULL REFERENCES peering_sessions (id) ON DELETE CASCADE,
    rs_is_local BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, session_pk)
);
CREATE INDEX peering_api_requests_session ON peering_api_requests (session_pk);
CREATE INDEX peering_api_requests_created ON peering_api_requests (created_at);

-- Rate-limit counters per (bucket and client address, minute), shared by
-- every instance.
CREATE TABLE peering_api_rate (
    bucket TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX peering_api_rate_window ON peering_api_rate (window_start);

-- /auth flows the portal starts itself: the state's SHA-256, the SHA-256 of
-- the browser's cookie nonce, the PKCE verifier sealed with the secret key.
CREATE TABLE peering_api_auth_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    browser_hash TEXT NOT NULL,
    verifier TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX peering_api_auth_states_created ON peering_api_auth_states (created_at);
