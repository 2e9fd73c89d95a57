-- Which tagger made each tag (Tagger::version: a hash of its word lists and code version), so that
-- re-tagging can tell old tags from new. NULL for rows stored before versions were recorded, and for
-- inline tags whose event named no version.
ALTER TABLE message_tags ADD COLUMN tagger_version text;
