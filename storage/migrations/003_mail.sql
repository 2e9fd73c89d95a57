-- The mailer (workers/mail, docs/mail.md): an outbox with one row per e-mail, the mentions each
-- e-mail carries, and the addresses never to mail again.

-- One row per notification e-mail. Life of a row:
--   open     collecting a user's mentions until due_at (the end of the batching window)
--   retry    a send failed in a way that certainly delivered nothing; tried again at due_at
--   sending  claimed by one mailer (claim) for one SMTP transaction, started at claimed_at
--   sent     the SMTP server accepted it (sent_at)
--   dropped  nothing to send: every mention was read, or the user has no address / wants no e-mail
--   dead     undeliverable (last_error says why); also sent to the dead-letter topic
--   unknown  a claim ended without a verdict (a crash mid-send, a lost connection after the body):
--            never sent again, so it may or may not have been delivered; dead-lettered too
-- The window's end is a column, so it survives restarts; the claim is committed before the SMTP
-- transaction starts, so no row is ever sent twice.
CREATE TABLE mail_outbox (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL,
  template    text NOT NULL DEFAULT 'mentions',
  state       text NOT NULL DEFAULT 'open'
              CHECK (state IN ('open', 'retry', 'sending', 'sent', 'dropped', 'dead', 'unknown')),
  due_at      timestamptz NOT NULL,          -- open: end of the window; retry: next attempt
  attempts    integer NOT NULL DEFAULT 0,    -- SMTP transactions started
  claim       text,                          -- the mailer instance and nonce holding 'sending'
  claimed_at  timestamptz,
  message_id  text,                          -- the Message-ID header, the same on every attempt
  to_addr     text,                          -- the address of the last attempt
  mention_ids bigint[],                      -- the mentions the last attempt carried
  last_error  text,                          -- "Code: reason" of the last failure
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
-- At most one open row per user: every mention arriving in the window joins it.
CREATE UNIQUE INDEX mail_outbox_open ON mail_outbox (user_id) WHERE state = 'open';
CREATE INDEX mail_outbox_due ON mail_outbox (due_at) WHERE state IN ('open', 'retry');
CREATE INDEX mail_outbox_claims ON mail_outbox (claimed_at) WHERE state = 'sending';

-- Each chat.notify event recorded, keyed by its mention: a replayed event finds its row and changes
-- nothing. `event` is the normalised event, the data of the e-mail.
CREATE TABLE mail_mentions (
  mention_id  bigint PRIMARY KEY,
  outbox_id   bigint NOT NULL REFERENCES mail_outbox (id),
  user_id     bigint NOT NULL,
  event       jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_mentions_outbox ON mail_mentions (outbox_id);

-- Addresses that bounced or complained: never mailed again. The mailer adds a 'bounce' when an SMTP
-- server refuses a recipient or a message permanently (5xx); complaints and manual entries come from
-- operators (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE mail_suppressions (
  address    text PRIMARY KEY CHECK (address = lower(address)),
  reason     text NOT NULL CHECK (reason IN ('bounce', 'complaint', 'manual')),
  detail     text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Records a batch of chat.notify events (a JSON array of normalised events, docs/events.md): each
-- new mention joins its user's open outbox row, or opens one due window_ms from now. Returns how many
-- were new. Safe to call again with the same batch.
CREATE FUNCTION mail_enqueue(batch jsonb, window_ms bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  uid bigint;
  box bigint;
  added integer := 0;
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM mail_mentions WHERE mention_id = (e->>'mention_id')::bigint);
    uid := (e->>'user_id')::bigint;
    -- A mailer claiming the open row at this moment turns it into 'sending': then open a new one.
    LOOP
      SELECT id INTO box FROM mail_outbox WHERE user_id = uid AND state = 'open' FOR UPDATE;
      EXIT WHEN FOUND;
      INSERT INTO mail_outbox (user_id, due_at) VALUES (uid, now() + window_ms * interval '1 millisecond')
      ON CONFLICT (user_id) WHERE state = 'open' DO NOTHING
      RETURNING id INTO box;
      EXIT WHEN box IS NOT NULL;
    END LOOP;
    INSERT INTO mail_mentions (mention_id, outbox_id, user_id, event)
    VALUES ((e->>'mention_id')::bigint, box, uid, e)
    ON CONFLICT (mention_id) DO NOTHING;
    IF FOUND THEN added := added + 1; END IF;
  END LOOP;
  RETURN added;
END $$;
