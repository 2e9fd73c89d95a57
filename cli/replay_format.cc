#include "cli/replay_format.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace chatpipe {

std::vector<std::string> KnownCsvColumns(std::string_view topic) {
  // From docs/events.md; docs/replay.md lists them. chat.deadletter's events are the envelopes
  // `chatpipe deadletter list` prints (DeadLetterJson), the payload a string.
  if (topic == "chat.messages")
    return {"v",         "type",      "room",      "id",
            "user.id",   "user.name", "text",      "ts",
            "client_msg_id", "tags.lang", "tags.sentiment.label", "tags.sentiment.score",
            "tags.profanity.flagged", "tags.profanity.level", "tags.profanity.terms", "tags.profanity.levels",
            "tags.profanity.masked", "tagger_version",
            // Image messages (appended, so the earlier columns keep their places).
            "kind", "image.id", "image.url", "image.thumbnail_url", "image.width", "image.height",
            "image.bytes", "image.type"};
  if (topic == "chat.notify")
    return {"type",       "mention_id",   "user_id",    "room.id", "room.name", "message.id",
            "message.text", "message.ts", "from.id", "from.name", "ts"};
  if (topic == "chat.deadletter")
    return {"partition",      "offset",         "ts",           "key",           "headers.reason",
            "headers.source", "headers.topic", "headers.partition", "headers.offset", "payload"};
  return {};
}

ScratchJson::ScratchJson()
    : values_(values_buffer_, sizeof values_buffer_), stack_(stack_buffer_, sizeof stack_buffer_) {}

const rapidjson::Value* ScratchJson::Parse(std::string_view text) {
  doc_.reset();
  values_.Clear();  // back to the buffers: frees only what an unusually large event took beyond them
  stack_.Clear();
  doc_.emplace(&values_, sizeof stack_buffer_, &stack_);
  doc_->Parse(text.data(), text.size());
  return doc_->HasParseError() || !doc_->IsObject() ? nullptr : &*doc_;
}

void AppendCsvField(std::string_view text, std::string* out) {
  // One pass; string_view::find_first_of would search the set once per character.
  if (std::none_of(text.begin(), text.end(), [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; })) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

namespace {

// A leaf's CSV text into `out`: a string as it is, null as nothing, anything else as its JSON.
void LeafText(const rapidjson::Value& v, std::string* out) {
  if (v.IsString()) {
    out->assign(v.GetString(), v.GetStringLength());
  } else if (v.IsNull()) {
    out->clear();
  } else if (v.IsInt64()) {
    char digits[24];
    out->assign(digits, std::to_chars(digits, digits + sizeof digits, v.GetInt64()).ptr);
  } else {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    out->assign(buf.GetString(), buf.GetSize());
  }
}

}  // namespace

EventFormatter::EventFormatter(ReplayFormat format, std::vector<std::string> columns)
    : format_(format), columns_(std::move(columns)) {}

std::string EventFormatter::Start() {
  std::string out;
  if (format_ == ReplayFormat::kCsv && !columns_.empty()) AppendHeader(&out);
  return out;
}

void EventFormatter::AppendHeader(std::string* out) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i) out->push_back(',');
    AppendCsvField(columns_[i], out);
  }
  out->push_back('\n');
}

bool EventFormatter::Append(std::string_view event, std::string* out) {
  if (format_ == ReplayFormat::kJsonl) {
    // The encoders escape every control character, so an event is one line; anything else would
    // break the file's one-event-a-line shape.
    if (event.empty() || std::memchr(event.data(), '\n', event.size()) || std::memchr(event.data(), '\r', event.size()))
      return false;
    out->append(event);
    out->push_back('\n');
    return true;
  }
  const rapidjson::Value* doc = json_.Parse(event);
  if (!doc) return false;
  std::string header;
  if (columns_.empty()) {  // a topic with no known schema: the first event's fields
    FlattenJson(*doc, &path_, [&](std::string_view path, const rapidjson::Value&) { columns_.emplace_back(path); });
    AppendHeader(&header);
  }
  row_.resize(columns_.size());
  for (auto& field : row_) field.clear();
  FlattenJson(*doc, &path_, [&](std::string_view path, const rapidjson::Value& v) {
    auto it = std::find(columns_.begin(), columns_.end(), path);
    if (it == columns_.end()) {
      ++unplaced_fields_;
      return;
    }
    LeafText(v, &row_[static_cast<size_t>(it - columns_.begin())]);
  });
  out->append(header);
  for (size_t i = 0; i < row_.size(); ++i) {
    if (i) out->push_back(',');
    AppendCsvField(row_[i], out);
  }
  out->push_back('\n');
  return true;
}

}  // namespace chatpipe
