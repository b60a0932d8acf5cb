-- Substring search of the staff user list without scanning every user:
-- an FTS5 trigram index over username, name and email, kept by triggers.
CREATE VIRTUAL TABLE users_search USING fts5(
    username, name, email,
    content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, username, name, email)
    VALUES (new.id, new.username, new.name, new.email);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username, name, email)
    VALUES ('delete', old.id, old.username, old.name, old.email);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF username, name, email ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username, name, email)
    VALUES ('delete', old.id, old.username, old.name, old.email);
    INSERT INTO users_search (rowid, username, name, email)
    VALUES (new.id, new.username, new.name, new.email);
END;
