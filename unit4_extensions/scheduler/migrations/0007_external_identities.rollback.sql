-- Undoes 0007_external_identities, but never by cutting people off silently: the code before
-- it knows no external sign-in, and an account made by one has no password anyone knows, so
-- the rollback refuses while any external identity is linked.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
DO $$
BEGIN
    IF EXISTS (SELECT FROM external_identities) THEN
        RAISE EXCEPTION 'users sign in through an external identity provider, and the code before 0007 has no external sign-in'
            USING HINT = 'Give those users a password (or delete their external_identities rows) first.';
    END IF;
END
$$;
-- Dropping what 0007 added is what a rollback is for (and the table is empty).
-- squawk-ignore ban-drop-table
DROP TABLE external_identities;
