-- Media (issue 17): objects in the object store (storage/object_store.h), the rooms they may be read
-- in, image uploads and synthesised speech.

-- One row per stored object, whatever uses it: its key is the SHA-256 of its bytes.
CREATE TABLE objects (
  sha256     text PRIMARY KEY,              -- lower-case hex: the key in the object store
  type       text NOT NULL,                 -- its Content-Type
  bytes      bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Whoever may read a room may read the objects used in it, and only they: the same bytes posted in a
-- public and in a private room are one object with two rows here.
CREATE TABLE room_objects (
  room_id bigint NOT NULL,
  sha256  text NOT NULL REFERENCES objects (sha256),
  PRIMARY KEY (room_id, sha256)
);

-- An image a user uploaded to a room, ready for one of their messages to carry.
CREATE TABLE uploads (
  id           bigint PRIMARY KEY,          -- stamped by ingress like a message id
  room_id      bigint NOT NULL,
  user_id      bigint NOT NULL,
  sha256       text NOT NULL REFERENCES objects (sha256),
  thumb_sha256 text NOT NULL REFERENCES objects (sha256),
  type         text NOT NULL,               -- image/png, image/jpeg, image/gif or image/webp
  width        int NOT NULL,
  height       int NOT NULL,
  bytes        bigint NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- The image a message carries, as its frames show it (docs/events.md). A table of its own, not a
-- column of messages: chat_persist's row type stays as it is, and text messages pay nothing. json,
-- not jsonb: it keeps the text as ingress wrote it, so a frame read back is the frame sent live.
CREATE TABLE message_images (
  message_id bigint PRIMARY KEY,
  image      json NOT NULL
);

-- A message's synthesised speech, made once.
CREATE TABLE speech (
  message_id  bigint PRIMARY KEY,
  sha256      text NOT NULL REFERENCES objects (sha256),
  duration_ms int NOT NULL,
  lang        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
