-- The seat map as `json`, not `jsonb`.
--
-- The map of the 4,900-seat stadium is about 0.7 MB, and every buyer past the waiting room asks
-- for it. Built as `jsonb` (a binary tree with sorted, de-duplicated keys, then printed as
-- text) it cost about 100 ms of Postgres CPU per call on our 2-core machine: in the
-- booking-flow benchmark the seat map alone needed more CPU than the machine has. `json`
-- builds the text directly, in about 40 ms; the component passes that text through unparsed.
-- Same fields, same order of seats; only the key order within objects and spacing differ.

DROP FUNCTION booking_seat_map(uuid, integer);

CREATE FUNCTION booking_seat_map(p_event_id uuid, p_limit integer) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN (
    SELECT json_build_object(
               'event', json_build_object('id', e.id, 'title', e.title),
               'layout', (SELECT json_build_object(
                                     'id', l.id, 'name', l.name, 'description', l.description,
                                     'total_seats', l.total_seats,
                                     'layout_config', l.layout_config)
                            FROM seat_layouts AS l WHERE l.id = e.seat_layout_id),
               'seats', coalesce((
                   SELECT json_agg(json_build_object(
                              'id', s.id, 'section', s.section, 'row_number', s.row_number,
                              'seat_number', s.seat_number, 'seat_label', s.seat_label,
                              'price', s.price,
                              'status', CASE
                                  WHEN s.status = 'reserved' THEN 'reserved'
                                  WHEN s.status = 'locked'
                                       AND coalesce(s.hold_expires_at > now(), true) THEN 'locked'
                                  ELSE 'available' END)
                          ORDER BY s.section, s.row_number, s.seat_number)
                     FROM (SELECT * FROM seats WHERE event_id = e.id
                            ORDER BY section, row_number, seat_number
                            LIMIT greatest(p_limit, 0)) AS s), '[]'::json))
      FROM events AS e
     WHERE e.id = p_event_id);

REVOKE ALL ON FUNCTION booking_seat_map(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION booking_seat_map(uuid, integer) TO urr_booking_read;
