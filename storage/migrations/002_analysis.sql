-- Analysis: tags on messages, a moderation policy per room, and the mentions inbox.

-- The tagger's output per message (docs/events.md). Its own table, not a column of messages: the tag
-- worker and the persister read the topic independently, so tags may be written before the message.
CREATE TABLE message_tags (
  message_id bigint PRIMARY KEY,
  room_id    bigint NOT NULL,
  tags       jsonb NOT NULL
);

-- tag: show every message, mark it; mask: clients only ever see the masked text; block: refuse
-- profane messages with an error.
ALTER TABLE rooms ADD COLUMN moderation text NOT NULL DEFAULT 'tag'
  CHECK (moderation IN ('tag', 'mask', 'block'));

-- One row per (message, mentioned user): a replayed message mentions nobody twice.
CREATE TABLE mentions (
  id         bigserial PRIMARY KEY,
  message_id bigint NOT NULL,
  room_id    bigint NOT NULL,
  user_id    bigint NOT NULL,               -- the mentioned user
  kind       text NOT NULL CHECK (kind IN ('user', 'room', 'here')),  -- @name; @room or @all; @here
  read_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, user_id)
);
CREATE INDEX mentions_inbox ON mentions (user_id, id DESC);
