#include "ingress/room_tags.h"

namespace chatpipe {

TagOptions RoomTagOptions(const Moderation& moderation, const std::string& author) {
  TagOptions options;
  options.mask_mild = moderation.mild == Policy::kMask;
  options.mask_strong = true;  // a room that masks mild words masks strong ones too (CreateRoomRoute)
  options.names = {author};
  return options;
}

void TagUntaggedRows(const Tagger& tagger, const Moderation& moderation, std::vector<StoredMessage>* rows) {
  if (moderation.Masks() || rows->empty()) return;
  const bool newest_first = rows->front().pos >= rows->back().pos;
  size_t budget = kTagOnReadBytes;
  for (size_t k = 0; k < rows->size(); ++k) {
    ChatEvent& e = (*rows)[newest_first ? k : rows->size() - 1 - k].event;
    if (!e.tags.empty() || e.text.empty()) continue;
    if (e.text.size() > budget) return;
    budget -= e.text.size();
    e.tags = TagsToJson(tagger.Analyze(e.text, RoomTagOptions(moderation, e.user.name)));
  }
}

}  // namespace chatpipe
