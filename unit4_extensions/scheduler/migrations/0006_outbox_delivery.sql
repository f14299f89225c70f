-- Unit 4 (lesson 4.9): the worker delivers the outbox. Each mail keeps what its delivery
-- attempts met, so a mail that cannot be sent is never dropped silently: it stays unsent, with
-- the server's last answer beside it, until it goes out or someone looks.
-- depends: 0004_job_queue

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- --8<-- [start:columns]
-- Constant defaults and nullable columns: no table rewrite, and every existing mail reads as
-- "never tried", which is what it is.
ALTER TABLE outbox
    ADD COLUMN attempts bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_error text,
    -- The server refused the mail for good (a 5xx): the periodic sweep leaves it alone, and
    -- `flask jobs retry` sends it again once the cause is fixed.
    ADD COLUMN rejected_at timestamptz;
-- --8<-- [end:columns]
