-- The shared pixel board (issue 18, docs/board.md): every placement the board worker applied, with
-- its time, so the board at any moment can be rebuilt (`chatpipe board export`) and a pixel's story told
-- (GET /api/board/pixels/{x}/{y}). The live board is in Redis; this is its history.
--
-- No foreign key to users: a placement's user is in a signed token, and the worker writes thousands a
-- second; names are joined when read.
CREATE TABLE board_placements (
  id        bigint PRIMARY KEY,             -- stamped by ingress; a pixel shows its highest id
  x         integer NOT NULL,
  y         integer NOT NULL,
  color     smallint NOT NULL,              -- a palette index
  user_id   bigint NOT NULL,
  placed_at timestamptz NOT NULL            -- the id's time (ingress's stamp)
);

-- A pixel's story, newest first.
CREATE INDEX board_placements_pixel ON board_placements (y, x, id DESC);
