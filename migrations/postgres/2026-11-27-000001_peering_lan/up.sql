-- The IXP itself (one row), its peering LANs, route servers and the
-- customers' connections on the LANs.
CREATE TABLE ixp (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    shortname TEXT NOT NULL,
    ixf_id BIGINT,
    peeringdb_ix_id BIGINT,
    country TEXT NOT NULL,
    support_email TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE peering_lans (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    vlan_id INTEGER NOT NULL CHECK (vlan_id BETWEEN 1 AND 4094),
    ipv4_prefix TEXT,
    ipv6_prefix TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX peering_lans_name ON peering_lans (name);
CREATE UNIQUE INDEX peering_lans_vlan ON peering_lans (vlan_id);

CREATE TABLE route_servers (
    id BIGSERIAL PRIMARY KEY,
    lan_id BIGINT NOT NULL REFERENCES peering_lans (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    asn BIGINT NOT NULL CHECK (asn BETWEEN 1 AND 4294967295),
    ipv4_address TEXT,
    ipv6_address TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX route_servers_name ON route_servers (name);
CREATE UNIQUE INDEX route_servers_lan_v4 ON route_servers (lan_id, ipv4_address);
CREATE UNIQUE INDEX route_servers_lan_v6 ON route_servers (lan_id, ipv6_address);
CREATE INDEX route_servers_asn ON route_servers (asn);

CREATE TABLE connections (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    lan_id BIGINT NOT NULL REFERENCES peering_lans (id) ON DELETE RESTRICT,
    ipv4_address TEXT,
    ipv6_address TEXT,
    mac_addresses TEXT NOT NULL,
    speed_mbps BIGINT NOT NULL CHECK (speed_mbps > 0),
    max_prefixes_v4 INTEGER,
    max_prefixes_v6 INTEGER,
    as_set TEXT,
    rs_client BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX connections_lan_v4 ON connections (lan_id, ipv4_address);
CREATE UNIQUE INDEX connections_lan_v6 ON connections (lan_id, ipv6_address);
CREATE INDEX connections_customer ON connections (customer_id);
