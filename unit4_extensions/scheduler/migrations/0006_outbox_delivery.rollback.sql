-- Undoes 0006_outbox_delivery. What it drops is only the record of delivery attempts: every
-- mail, sent or not, stays in the outbox.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore ban-drop-column
ALTER TABLE outbox DROP COLUMN rejected_at;
-- squawk-ignore ban-drop-column
ALTER TABLE outbox DROP COLUMN last_error;
-- squawk-ignore ban-drop-column
ALTER TABLE outbox DROP COLUMN attempts;
