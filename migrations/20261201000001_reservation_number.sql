-- Reservation numbers unique by construction.
--
-- The first version drew 32 random bits per day. At 100,000 bookings a day the birthday bound
-- makes a collision about even odds, and the unique constraint then failed that buyer's reserve
-- with an error instead of a number. A sequence cannot collide; the four random hex digits after
-- it keep neighbouring numbers from being guessable when read out to a call centre (reads are
-- owner-only either way).
--
-- Format: `R<yyyymmdd>-<sequence, hex, at least 6 digits>-<4 random hex digits>`, e.g.
-- `R20261201-00002A-9F3C`. Two numbers can only be equal if their sequence parts are.

CREATE SEQUENCE reservation_number_seq AS bigint;
REVOKE ALL ON SEQUENCE reservation_number_seq FROM PUBLIC;

-- Only the SECURITY DEFINER booking functions call this, so it runs as the migration owner,
-- which owns the sequence; no component role needs USAGE on it.
CREATE OR REPLACE FUNCTION booking_reservation_number() RETURNS text
LANGUAGE sql VOLATILE
RETURN 'R' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
       || upper(lpad(to_hex(nextval('reservation_number_seq')), 6, '0')) || '-'
       || upper(substr(md5(gen_random_uuid()::text), 1, 4));
