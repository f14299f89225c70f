-- Undoes 0002_unit2_auth: accounts, tokens, the outbox and the throttle, with their rows.
DROP TABLE refresh_tokens;
DROP TABLE failed_logins;
DROP TABLE outbox;
DROP TABLE email_verifications;
DROP TABLE users;
ALTER TABLE sections DROP COLUMN notes;
