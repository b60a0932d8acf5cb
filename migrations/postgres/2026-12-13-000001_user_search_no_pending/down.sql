DO $$
DECLARE
    idx text;
BEGIN
    FOREACH idx IN ARRAY ARRAY['users_username_trgm', 'users_name_trgm', 'users_email_trgm'] LOOP
        IF to_regclass(idx) IS NOT NULL THEN
            EXECUTE format('ALTER INDEX %I RESET (fastupdate)', idx);
        END IF;
    END LOOP;
END $$;
