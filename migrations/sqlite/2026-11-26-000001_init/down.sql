DROP TABLE password_resets;
DROP TABLE login_failures;
DROP TABLE audit_log;
DROP TABLE login_records;
DROP TABLE affiliations;
DROP TABLE users;
DROP TABLE customers;
