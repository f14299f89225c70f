-- Unit 4 (lesson 4.5): the waitlist. An enrollment either holds a seat (`enrolled`) or waits
-- for one (`waitlisted`). A waiting student holds a ticket, drawn while the section is locked,
-- so tickets follow the order in which students joined the line; a position is computed from
-- the tickets ahead, so leaving the line renumbers nobody and positions have no gaps or repeats.
-- depends: 0002_unit2_auth

-- --8<-- [start:timeouts]
-- Wait at most 5 s for the table's lock (behind a long transaction, say) rather than stall
-- every request that touches enrollments behind us; the migration then fails whole, changes
-- nothing, and is simply run again. Nothing here should take long: bound that too.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- --8<-- [end:timeouts]

-- --8<-- [start:columns]
-- Every existing row holds a seat. A constant default fills the rows without rewriting the
-- table (PostgreSQL 11 and later); the checks are verified in the same single pass over it,
-- under the lock the new columns take anyway (NOT VALID would not help inside one transaction).
ALTER TABLE enrollments
    ADD COLUMN status text NOT NULL DEFAULT 'enrolled'
        CONSTRAINT enrollments_status_valid CHECK (status IN ('enrolled', 'waitlisted')),
    ADD COLUMN waitlist_ticket bigint,
    -- A waiting student has a ticket; a seated one has none.
    -- squawk-ignore constraint-missing-not-valid
    ADD CONSTRAINT enrollments_ticket_when_waitlisted
        CHECK ((status = 'waitlisted') = (waitlist_ticket IS NOT NULL));
CREATE SEQUENCE enrollments_waitlist_ticket_seq AS bigint OWNED BY enrollments.waitlist_ticket;
-- --8<-- [end:columns]

-- --8<-- [start:queue-index]
-- One section's line in ticket order: the next in line, and every position, read from it.
-- Built inside the migration's transaction: CONCURRENTLY cannot be, and the table is locked
-- by the columns above until the end anyway.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX enrollments_waitlist_idx ON enrollments (section_id, waitlist_ticket)
    WHERE status = 'waitlisted';
-- --8<-- [end:queue-index]

-- --8<-- [start:position]
-- A waiting student's place in their section's line (1 is next), counted from the tickets
-- drawn before theirs that still wait; NULL for a seated student (who has no ticket).
CREATE FUNCTION waitlist_position(section bigint, ticket bigint)
RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN (
    SELECT count(*)::int
      FROM enrollments
     WHERE section_id = section AND status = 'waitlisted' AND waitlist_ticket <= ticket
);
-- --8<-- [end:position]
