DROP TABLE leases;
DROP TABLE peeringdb_tokens;
DROP TABLE peeringdb_blocks;
DROP INDEX affiliations_confirmed;
ALTER TABLE affiliations DROP COLUMN confirmed_at;
