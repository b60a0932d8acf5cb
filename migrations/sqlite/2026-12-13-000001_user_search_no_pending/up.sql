-- Issue 12: PostgreSQL's trigram indexes stop using a pending list; SQLite's
-- FTS5 index has none. Nothing to do here (kept so both backends list the
-- same migrations).
SELECT 1;
