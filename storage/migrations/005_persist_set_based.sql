-- chat_persist, set-based: the same results as 001's per-event loop, in a few index probes per event
-- and one INSERT for the whole batch instead of up to three statements per event (the persister's
-- ingest limit).

-- Stores a batch of chat events (a JSON array of ChatEvent, docs/events.md) and returns, for each in
-- order, the stored row: the new one, or the one already there for the same id (a replay) or for the
-- same user and client_msg_id (a client's retry). Safe to call again with the same batch.
--
-- Events of the batch that match nothing stored are grouped by (user, client_msg_id), or by id when
-- they have no client_msg_id: the first of each group is inserted, the others return its row, and new
-- rows take their room's next positions in batch order. That equals the event-by-event result as long
-- as one id always comes with one (user, client_msg_id), which holds for every real event (ingress
-- stamps the id once per message). A batch that breaks it is stored one event at a time instead.
CREATE OR REPLACE FUNCTION chat_persist(batch jsonb) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
BEGIN
  IF EXISTS (SELECT 1
               FROM (SELECT DISTINCT x->>'id', x->'user'->>'id', x->>'client_msg_id'
                       FROM jsonb_array_elements(batch) x) d (id, user_id, client_msg_id)
              GROUP BY d.id HAVING count(*) > 1) THEN
    FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
      RETURN QUERY SELECT * FROM chat_persist(jsonb_build_array(e));
    END LOOP;
    RETURN;
  END IF;

  RETURN QUERY
  WITH ev AS MATERIALIZED (
    SELECT a.ord, (a.e->>'id')::bigint AS id, (a.e->>'room')::bigint AS room_id,
           (a.e->'user'->>'id')::bigint AS user_id, a.e->'user'->>'name' AS user_name,
           a.e->>'text' AS body, (a.e->>'ts')::bigint AS ts, a.e->>'client_msg_id' AS client_msg_id
      FROM jsonb_array_elements(batch) WITH ORDINALITY AS a (e, ord)
  ),
  -- Each event with the row already stored for it, if any: by id, else by the user's client_msg_id.
  looked AS MATERIALIZED (
    SELECT ev.*, m.stored, m.stored IS NULL AS fresh
      FROM ev LEFT JOIN LATERAL (
        (SELECT x AS stored FROM messages x WHERE x.id = ev.id)
        UNION ALL
        (SELECT x FROM messages x
          WHERE x.user_id = ev.user_id AND x.client_msg_id = ev.client_msg_id AND x.client_msg_id IS NOT NULL)
        LIMIT 1) m ON true
  ),
  -- The first fresh event of each group is inserted, at its room's next free position.
  firsts AS MATERIALIZED (
    SELECT l.*, l.fresh AND l.ord = first_value(l.ord) OVER grp AS inserted
      FROM looked l
    WINDOW grp AS (PARTITION BY l.fresh, l.user_id, l.client_msg_id,
                                CASE WHEN l.client_msg_id IS NULL THEN l.id END ORDER BY l.ord)
  ),
  planned AS MATERIALIZED (
    SELECT f.*,
           CASE WHEN f.inserted THEN
             coalesce((SELECT max(x.pos) FROM messages x WHERE x.room_id = f.room_id), 0)
             + count(*) FILTER (WHERE f.inserted) OVER (PARTITION BY f.room_id ORDER BY f.ord ROWS UNBOUNDED PRECEDING)
           END AS pos
      FROM firsts f
  ),
  -- Runs to completion whether or not the query below reads it; the rows it stores are exactly
  -- those values, so the answer is built from planned without reading them back.
  ins AS (
    INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts, client_msg_id)
    SELECT p.id, p.room_id, p.pos, p.user_id, p.user_name, p.body, p.ts, p.client_msg_id
      FROM planned p WHERE p.inserted
  ),
  answer AS (
    SELECT p.ord, p.fresh, p.stored,
           ROW(first_value(p.id) OVER grp, first_value(p.room_id) OVER grp, first_value(p.pos) OVER grp,
               first_value(p.user_id) OVER grp, first_value(p.user_name) OVER grp,
               first_value(p.body) OVER grp, first_value(p.ts) OVER grp,
               first_value(p.client_msg_id) OVER grp)::messages AS first
      FROM planned p
    WINDOW grp AS (PARTITION BY p.fresh, p.user_id, p.client_msg_id,
                                CASE WHEN p.client_msg_id IS NULL THEN p.id END ORDER BY p.ord)
  )
  SELECT (CASE WHEN a.fresh THEN a.first ELSE a.stored END).* FROM answer a ORDER BY a.ord;
END $$;
