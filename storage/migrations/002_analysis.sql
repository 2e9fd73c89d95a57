-- Analysis: tags on messages, a moderation policy per room, and the mentions inbox.

ALTER TABLE messages ADD COLUMN tags jsonb;   -- the tagger's output (docs/events.md), NULL until tagged

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
