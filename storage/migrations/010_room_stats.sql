-- Rollups behind a room's statistics (GET /api/rooms/{id}/stats, `chatpipe stats`; storage/room_stats.h).
-- Summing a month of a busy room's messages and their jsonb tags takes seconds; these tables hold the
-- same figures per bucket, kept by statement triggers in the transaction that writes the rows, so
-- whatever writes messages or tags (the persister, the tag worker, a re-tagging run, a replay) keeps
-- them right: a replayed row that ON CONFLICT DO NOTHING skips is in no transition table, and a tag
-- that is replaced or deleted takes its old figures out.

-- Per room and bucket, for the three bucket widths the API offers (ms: minute, hour, UTC day): the
-- messages and the distinct posters. A query reads one row per bucket, whatever the traffic.
CREATE TABLE room_buckets (
  room_id      bigint NOT NULL,
  width        integer NOT NULL,  -- 60000, 3600000 or 86400000
  bucket       bigint NOT NULL,   -- start, ms since the epoch: ts - ts % width
  messages     integer NOT NULL,
  active_users integer NOT NULL,
  PRIMARY KEY (room_id, width, bucket)
);

-- Who posted in each bucket: a poster's first message in a bucket adds one to its active_users, and
-- the distinct posters over a range are counted here.
CREATE TABLE room_activity (
  room_id bigint NOT NULL,
  width   integer NOT NULL,
  bucket  bigint NOT NULL,
  user_id bigint NOT NULL,
  PRIMARY KEY (room_id, width, bucket, user_id)
);

-- Tag figures per room and bucket (the same widths). A tag's bucket comes from its message id
-- (common/message_id.h: ms since 2024-01-01 in the bits above 22), which holds the same instant as the
-- message's ts, so it is known even when the tag is stored before its message. Sentiment is summed in
-- thousandths (the tagger rounds scores to 3 decimals): exact under the subtractions of re-tagging.
-- Apart from room_buckets, so that the persister and the tag worker never wait on each other's rows.
CREATE TABLE room_tag_buckets (
  room_id         bigint NOT NULL,
  width           integer NOT NULL,
  bucket          bigint NOT NULL,
  tagged          integer NOT NULL,
  sentiment_milli bigint NOT NULL,
  negative        integer NOT NULL,  -- sentiment label "negative"
  profane         integer NOT NULL,  -- profanity flagged
  PRIMARY KEY (room_id, width, bucket)
);

CREATE FUNCTION room_buckets_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Sorted, so two writers lock shared rows in the same order. A poster already in a bucket, even
  -- one a concurrent transaction is adding (ON CONFLICT waits for it), is not returned by fresh.
  WITH placed AS MATERIALIZED (
    SELECT n.room_id, w.width, n.ts - n.ts % w.width AS bucket, n.user_id
      FROM new_rows n CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width)
  ),
  fresh AS (
    INSERT INTO room_activity (room_id, width, bucket, user_id)
    SELECT DISTINCT * FROM placed ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING
    RETURNING room_id, width, bucket
  )
  INSERT INTO room_buckets AS b (room_id, width, bucket, messages, active_users)
  SELECT p.room_id, p.width, p.bucket, p.messages, coalesce(f.posters, 0)
    FROM (SELECT room_id, width, bucket, count(*) AS messages FROM placed GROUP BY 1, 2, 3) p
    LEFT JOIN (SELECT room_id, width, bucket, count(*) AS posters FROM fresh GROUP BY 1, 2, 3) f
      USING (room_id, width, bucket)
   ORDER BY 1, 2, 3
  ON CONFLICT (room_id, width, bucket) DO UPDATE
    SET messages = b.messages + excluded.messages, active_users = b.active_users + excluded.active_users;
  RETURN NULL;
END $$;

-- Adds inserted tags, takes deleted ones out, and both for an update (the old figures out, the new in).
CREATE FUNCTION room_tag_buckets_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changes text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT room_id, message_id, tags, 1 AS sign FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT room_id, message_id, tags, -1 AS sign FROM old_rows'
    ELSE 'SELECT room_id, message_id, tags, 1 AS sign FROM new_rows '
         'UNION ALL SELECT room_id, message_id, tags, -1 FROM old_rows' END;
BEGIN
  EXECUTE
    'INSERT INTO room_tag_buckets AS t (room_id, width, bucket, tagged, sentiment_milli, negative, profane) '
    'SELECT c.room_id, w.width, c.at - c.at % w.width, sum(c.sign), sum(c.sign * c.milli), sum(c.sign * c.negative), '
    '       sum(c.sign * c.profane) '
    '  FROM (SELECT x.room_id, (x.message_id >> 22) + 1704067200000 AS at, x.sign, '
    '               coalesce(round((x.tags->''sentiment''->>''score'')::numeric * 1000), 0)::bigint AS milli, '
    '               coalesce(x.tags->''sentiment''->>''label'' = ''negative'', false)::int AS negative, '
    '               coalesce((x.tags->''profanity''->>''flagged'')::boolean, false)::int AS profane '
    '          FROM (' || changes || ') x) c '
    '  CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width) '
    ' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 '
    'ON CONFLICT (room_id, width, bucket) DO UPDATE SET tagged = t.tagged + excluded.tagged, '
    '  sentiment_milli = t.sentiment_milli + excluded.sentiment_milli, '
    '  negative = t.negative + excluded.negative, profane = t.profane + excluded.profane';
  RETURN NULL;
END $$;

-- Lock writers out until this migration commits, so the backfill misses nothing written meanwhile and
-- counts nothing twice.
LOCK TABLE messages, message_tags IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER messages_room_buckets AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION room_buckets_add();
INSERT INTO room_activity (room_id, width, bucket, user_id)
SELECT DISTINCT m.room_id, w.width, m.ts - m.ts % w.width, m.user_id
  FROM messages m CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width);
INSERT INTO room_buckets (room_id, width, bucket, messages, active_users)
SELECT m.room_id, w.width, m.ts - m.ts % w.width, count(*), count(DISTINCT m.user_id)
  FROM messages m CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width)
 GROUP BY 1, 2, 3;

-- The tags stored before now go out and back in under the insert trigger, so that one function is
-- the only place tags are summed.
CREATE TEMP TABLE tags_before ON COMMIT DROP AS SELECT * FROM message_tags;
DELETE FROM message_tags;
CREATE TRIGGER message_tags_insert_stats AFTER INSERT ON message_tags
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION room_tag_buckets_apply();
INSERT INTO message_tags SELECT * FROM tags_before;
CREATE TRIGGER message_tags_update_stats AFTER UPDATE ON message_tags
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION room_tag_buckets_apply();
CREATE TRIGGER message_tags_delete_stats AFTER DELETE ON message_tags
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION room_tag_buckets_apply();

-- How often each user was @named (kind 'user'; @room, @all and @here are not counted) per room and
-- bucket, placed by the message id's time like the tags: the top mentioned users of a range sum a
-- few rows per bucket instead of every mention.
CREATE TABLE room_mention_buckets (
  room_id  bigint NOT NULL,
  width    integer NOT NULL,
  bucket   bigint NOT NULL,
  user_id  bigint NOT NULL,
  mentions integer NOT NULL,
  PRIMARY KEY (room_id, width, bucket, user_id)
);

CREATE FUNCTION room_mention_buckets_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changes text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT room_id, message_id, user_id, kind, 1 AS sign FROM new_rows'
    ELSE 'SELECT room_id, message_id, user_id, kind, -1 AS sign FROM old_rows' END;
BEGIN
  EXECUTE
    'INSERT INTO room_mention_buckets AS t (room_id, width, bucket, user_id, mentions) '
    'SELECT c.room_id, w.width, c.at - c.at % w.width, c.user_id, sum(c.sign) '
    '  FROM (SELECT x.room_id, (x.message_id >> 22) + 1704067200000 AS at, x.user_id, x.sign '
    '          FROM (' || changes || ') x WHERE x.kind = ''user'') c '
    '  CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width) '
    ' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 '
    'ON CONFLICT (room_id, width, bucket, user_id) DO UPDATE SET mentions = t.mentions + excluded.mentions';
  RETURN NULL;
END $$;

LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE;
CREATE TRIGGER mentions_insert_stats AFTER INSERT ON mentions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION room_mention_buckets_apply();
CREATE TRIGGER mentions_delete_stats AFTER DELETE ON mentions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION room_mention_buckets_apply();
INSERT INTO room_mention_buckets (room_id, width, bucket, user_id, mentions)
SELECT x.room_id, w.width, x.at - x.at % w.width, x.user_id, count(*)
  FROM (SELECT room_id, (message_id >> 22) + 1704067200000 AS at, user_id FROM mentions WHERE kind = 'user') x
  CROSS JOIN (VALUES (60000), (3600000), (86400000)) AS w (width)
 GROUP BY 1, 2, 3, 4;
