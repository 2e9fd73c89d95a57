-- A room's moderation per level of bad word (common/moderation.h): mild words ("damn", "weón") and
-- strong ones (the f-word family, sexual insults, slurs, threats) each have a policy, tag, mask or block.
-- Before levels the tagger flagged only what is now strong, so a room's one policy becomes its strong
-- words' and its mild words stay tagged: every room behaves as it did.
ALTER TABLE rooms RENAME COLUMN moderation TO moderation_strong;
ALTER TABLE rooms ADD COLUMN moderation_mild text NOT NULL DEFAULT 'tag'
  CHECK (moderation_mild IN ('tag', 'mask', 'block'));
