-- Foundation: the public schema is locked down, and every component role may use it but owns
-- nothing in it. Tables arrive with later migrations, each granting exactly what the component
-- role that needs it uses (least privilege; see docs/configuration.md).
--
-- The roles are cluster-wide, so they are created by the idempotent bootstrap step
-- (`urr-edge migrate`), never here.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public
    TO urr_health, urr_auth, urr_catalog, urr_queue, urr_booking, urr_booking_read, urr_payments, urr_admin;
