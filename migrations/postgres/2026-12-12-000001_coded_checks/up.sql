-- Issue 11: CHECK constraints on the coded columns (src/domain/codes.rs).
ALTER TABLE customers
    ADD CONSTRAINT customers_cust_type_code CHECK (cust_type IN (1, 2, 3, 4)),
    ADD CONSTRAINT customers_status_code CHECK (status IN (1, 2, 3));
ALTER TABLE affiliations
    ADD CONSTRAINT affiliations_privilege_code CHECK (privilege IN (1, 2)),
    ADD CONSTRAINT affiliations_created_by_code CHECK (created_by IN ('peeringdb', 'admin', 'cli'));
