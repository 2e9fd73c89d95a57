-- Users, rooms, memberships and messages: the core pipeline's tables.

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL,
  email         text,
  password_hash text,                       -- argon2id (libsodium crypto_pwhash_str); NULL for guests
  guest         boolean NOT NULL DEFAULT false,
  email_notifications boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));

CREATE TABLE rooms (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE,          -- lower-case, validated by ingress, linkable as #name
  private    boolean NOT NULL DEFAULT false,
  created_by bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE room_members (
  room_id  bigint NOT NULL REFERENCES rooms (id),
  user_id  bigint NOT NULL REFERENCES users (id),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

-- No foreign keys here on purpose: ingress validates rooms and users before it produces, and a
-- persister must never be wedged by a batch it cannot insert.
CREATE TABLE messages (
  id            bigint PRIMARY KEY,          -- time-ordered id stamped by ingress
  room_id       bigint NOT NULL,
  pos           bigint NOT NULL,             -- per-room position given by the persister
  user_id       bigint NOT NULL,
  user_name     text NOT NULL,
  body          text NOT NULL,
  ts            bigint NOT NULL,             -- ms since the epoch, stamped by ingress
  client_msg_id text,
  UNIQUE (room_id, pos)
);
CREATE UNIQUE INDEX messages_client_msg_id ON messages (user_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

-- Stores a batch of chat events (a JSON array of ChatEvent, docs/events.md) and returns, for each in
-- order, the stored row: the new one, or the one already there for the same id (a replay) or for the
-- same user and client_msg_id (a client's retry). Safe to call again with the same batch.
CREATE FUNCTION chat_persist(batch jsonb) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  m messages%ROWTYPE;
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
    SELECT * INTO m FROM messages WHERE id = (e->>'id')::bigint;
    IF NOT FOUND AND e ? 'client_msg_id' THEN
      SELECT * INTO m FROM messages
       WHERE user_id = (e->'user'->>'id')::bigint AND client_msg_id = e->>'client_msg_id';
    END IF;
    IF NOT FOUND THEN
      INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts, client_msg_id)
      VALUES ((e->>'id')::bigint, (e->>'room')::bigint,
              (SELECT coalesce(max(x.pos), 0) + 1 FROM messages x WHERE x.room_id = (e->>'room')::bigint),
              (e->'user'->>'id')::bigint, e->'user'->>'name', e->>'text', (e->>'ts')::bigint,
              e->>'client_msg_id')
      RETURNING * INTO m;
    END IF;
    RETURN NEXT m;
  END LOOP;
END $$;
