ALTER TABLE customers
    DROP CONSTRAINT customers_cust_type_code,
    DROP CONSTRAINT customers_status_code;
ALTER TABLE affiliations
    DROP CONSTRAINT affiliations_privilege_code,
    DROP CONSTRAINT affiliations_created_by_code;
