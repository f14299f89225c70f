-- Undoes 0003_waitlist, but never by dropping a waiting student silently: Unit 3 has no
-- waitlist to keep them in, so the rollback refuses while anyone waits.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
DO $$
BEGIN
    IF EXISTS (SELECT FROM enrollments WHERE status = 'waitlisted') THEN
        RAISE EXCEPTION 'students are on a waitlist, and Unit 3 has none to keep them in'
            USING HINT = 'Drop their waiting enrollments (or promote them) first.';
    END IF;
END
$$;
-- Dropping what 0003 added is what a rollback is for: the Unit 3 code it goes back to never
-- uses any of it.
-- squawk-ignore ban-drop-function
DROP FUNCTION waitlist_position(bigint, bigint);
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX enrollments_waitlist_idx;
-- squawk-ignore ban-drop-column
ALTER TABLE enrollments DROP COLUMN waitlist_ticket;  -- and its sequence, which it owns
-- squawk-ignore ban-drop-column
ALTER TABLE enrollments DROP COLUMN status;           -- and the checks on the two columns
