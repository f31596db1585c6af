-- Waiting room: the queue's state lives in Redis; Postgres only tells the join step whether an
-- event takes joins (status by `event_status(..., now())`, title and artist for the reply).
--
-- `urr_queue` may read exactly those columns of `events` and nothing else (least privilege:
-- not the description, not the seat layout, not another table).
GRANT SELECT (id, title, artist_name, cancelled, sale_start_date, sale_end_date) ON events
    TO urr_queue;
