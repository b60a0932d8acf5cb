DROP TABLE login_devices;
DROP TABLE login_lockouts;
DROP INDEX login_failures_address;
DROP INDEX login_failures_account;
ALTER TABLE login_failures DROP COLUMN device;
CREATE INDEX login_failures_key ON login_failures (username, address, at);
