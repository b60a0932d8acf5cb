-- Substring search of the staff user list without scanning every user:
-- trigram indexes (pg_trgm, a trusted extension since PostgreSQL 13). Where
-- the extension cannot be installed, the search still works, by a scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the user search will scan the table', SQLERRM;
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS users_username_trgm ON users USING gin (username gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
    END IF;
END $$;
