// The tags ingress gives a message of a room: at intake (message_intake.cc), and on a history read
// (HTTP history, a join's replay) for a stored message the tag worker has not tagged yet.
//
// Why on read: the message frame carries the tags ingress made, and the persister pushes that frame to
// the room's Redis history, but PostgreSQL gets a message's tags only from the tag worker, which
// gathers for 100 ms. A page read from PostgreSQL in that window (every page of over 10 messages reads
// there) would hand a client the newest messages without tags, so without `masked`: a client other
// than ours would show a tag room's strong words bare. Tagging those rows again gives the very tags
// the frame carried (the same tagger, text and options), at about 3 µs a message, on the database
// pool's thread, never on a loop.
#pragma once

#include <string>
#include <vector>

#include "analysis/tagger.h"
#include "common/events.h"
#include "common/moderation.h"

namespace chatpipe {

// How ingress tags a message of a room with `moderation` from `author`: strong words always masked in
// Tags::masked (what a client shows until its reader reveals them), mild ones where the room masks
// them, and the author's own name never a bad word. The options hold a view of `author`.
TagOptions RoomTagOptions(const Moderation& moderation, const std::string& author);

// At most this much text is tagged a read, newest rows first: the rows in the tag worker's window are
// the newest, and while the tag worker is away a read costs no more than this (the tagger is linear:
// about 15 ms on the worst text there is, bench/tagger_bench; under 1 ms for a page of chat messages).
inline constexpr size_t kTagOnReadBytes = 64 * 1024;

// Gives each row that has text and no tags the tags ingress gave it at intake, newest first (rows are
// in position order, either way), up to kTagOnReadBytes of text. Not in a room that masks a level: its
// stored text is masked already (the original is gone), so only the tags made at intake could
// describe it, and a client shows the stored text as it is.
void TagUntaggedRows(const Tagger& tagger, const Moderation& moderation, std::vector<StoredMessage>* rows);

}  // namespace chatpipe
