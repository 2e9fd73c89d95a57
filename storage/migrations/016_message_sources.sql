-- A client's retry is produced again under a new id, and chat_persist folds it into the first message.
-- Every worker that must see a retry for what it is records the id under which it first saw a
-- (sender, client_msg_id): the mention worker (to notify nobody twice) and now the tag worker (to
-- store, and count in room_tag_buckets, one row of tags per message). Workers read chat.messages in
-- partition order, as the persister does, so the first id any of them records is the one chat_persist
-- kept; the primary key makes concurrent writers of one pair agree.
ALTER TABLE mention_sources RENAME TO message_sources;
ALTER TABLE message_sources RENAME CONSTRAINT mention_sources_pkey TO message_sources_pkey;

-- The messages already stored: a re-tagging run over them sees their retries too.
INSERT INTO message_sources (user_id, client_msg_id, message_id)
SELECT user_id, client_msg_id, id FROM messages WHERE client_msg_id IS NOT NULL
ON CONFLICT (user_id, client_msg_id) DO NOTHING;
