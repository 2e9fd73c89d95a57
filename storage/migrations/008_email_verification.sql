-- E-mail addresses are verified (a link through the mailer) before any notification goes to them
-- (docs/mail.md, "Address verification").

-- When the user followed a verification link for their current address; NULL: not verified.
-- Addresses given before verification existed count as verified: their owners cannot ask for a
-- link again, and stopping their e-mails silently would be worse than trusting what was accepted.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = now() WHERE email IS NOT NULL;

-- The data of an e-mail that is not a mention digest: the verification e-mail's address and link token.
ALTER TABLE mail_outbox ADD COLUMN data jsonb;

-- The batching window is for mention digests only: a verification row is never joined by mentions.
DROP INDEX mail_outbox_open;
CREATE UNIQUE INDEX mail_outbox_open ON mail_outbox (user_id) WHERE state = 'open' AND template = 'mentions';

CREATE OR REPLACE FUNCTION mail_enqueue(batch jsonb, window_ms bigint) RETURNS integer
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
      SELECT id INTO box FROM mail_outbox
       WHERE user_id = uid AND state = 'open' AND template = 'mentions' FOR UPDATE;
      EXIT WHEN FOUND;
      INSERT INTO mail_outbox (user_id, due_at) VALUES (uid, now() + window_ms * interval '1 millisecond')
      ON CONFLICT (user_id) WHERE state = 'open' AND template = 'mentions' DO NOTHING
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

-- Queues the verification e-mail of a user's address, due at once; called by ingress in the
-- transaction that stores the address, so an address never exists without its e-mail queued.
CREATE FUNCTION mail_request_verification(uid bigint, address text, token text) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO mail_outbox (user_id, template, due_at, data)
  VALUES (uid, 'verify', now(), jsonb_build_object('email', address, 'token', token))
  RETURNING id
$$;
