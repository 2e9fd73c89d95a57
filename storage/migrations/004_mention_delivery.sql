-- The mention worker (workers/mention, docs/workers.md): what it needs beyond 002's mentions table.

-- When the mention's notification went out (the live frame, and chat.notify for an offline user).
-- A replayed batch notifies only mentions still NULL here, so a notification is repeated only when
-- the worker died between sending it and recording it (the mailer dedups by mention id).
ALTER TABLE mentions ADD COLUMN notified_at timestamptz;

-- The message id under which the worker first saw a client's message (sender, client_msg_id). A
-- client's retry is produced again under a new id, and chat_persist folds it into the first message;
-- this lets the mention worker see the retry for what it is and notify nobody a second time.
CREATE TABLE mention_sources (
  user_id       bigint NOT NULL,
  client_msg_id text NOT NULL,
  message_id    bigint NOT NULL,
  PRIMARY KEY (user_id, client_msg_id)
);

-- @room in a public room reaches everyone who has posted there: a loose index scan on this index
-- lists a room's posters in one probe per poster instead of reading every message of the room.
CREATE INDEX messages_room_user ON messages (room_id, user_id);
