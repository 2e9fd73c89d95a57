-- Re-processing history (docs/workers.md, "Re-processing").

-- The order tagger versions came into use. A version is a hash (Tagger::version), so "older" means
-- registered earlier: each tag worker registers its version when it starts, and re-tagging replaces a
-- stored tag only with one of a later version, never with an earlier one. Versions already stored are
-- registered in the order of their first message (message ids are time-ordered).
CREATE TABLE tagger_versions (
  version    text PRIMARY KEY,
  seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  first_used timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tagger_versions (version)
SELECT tagger_version FROM message_tags WHERE tagger_version IS NOT NULL
GROUP BY tagger_version ORDER BY min(message_id);

-- Dead letters that `chatpipe deadletter retry` produced back to their source topic, by their place on
-- the dead-letter topic: each is put back once.
CREATE TABLE dead_letter_retries (
  topic      text NOT NULL,
  part       int NOT NULL,
  "offset"   bigint NOT NULL,
  retried_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, part, "offset")
);
