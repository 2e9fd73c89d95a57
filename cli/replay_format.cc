#include "cli/replay_format.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace chatpipe {

std::vector<std::string> KnownCsvColumns(std::string_view topic) {
  // From docs/events.md; docs/replay.md lists them. chat.deadletter's events are the envelopes
  // `chatpipe deadletters` prints (DeadLetterJson), the payload a string.
  if (topic == "chat.messages")
    return {"v",         "type",      "room",      "id",
            "user.id",   "user.name", "text",      "ts",
            "client_msg_id", "tags.lang", "tags.sentiment.label", "tags.sentiment.score",
            "tags.profanity.flagged", "tags.profanity.terms", "tags.profanity.masked", "tagger_version"};
  if (topic == "chat.notify")
    return {"type",       "mention_id",   "user_id",    "room.id", "room.name", "message.id",
            "message.text", "message.ts", "from.id", "from.name", "ts"};
  if (topic == "chat.deadletter")
    return {"partition",      "offset",         "ts",           "key",           "headers.reason",
            "headers.source", "headers.topic", "headers.partition", "headers.offset", "payload"};
  return {};
}

void FlattenJson(const rapidjson::Value& value, const std::string& prefix,
                 const std::function<void(const std::string&, const rapidjson::Value&)>& leaf) {
  if (!value.IsObject()) {
    leaf(prefix, value);
    return;
  }
  for (const auto& m : value.GetObject()) {
    std::string path = prefix.empty() ? std::string(m.name.GetString(), m.name.GetStringLength())
                                      : prefix + "." + std::string(m.name.GetString(), m.name.GetStringLength());
    FlattenJson(m.value, path, leaf);
  }
}

void AppendCsvField(std::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
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

// A leaf's CSV text: a string as it is, null as nothing, anything else as its JSON.
std::string LeafText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsNull()) return std::string();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
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
    if (event.empty() || event.find_first_of("\r\n") != std::string_view::npos) return false;
    out->append(event);
    out->push_back('\n');
    return true;
  }
  rapidjson::Document doc;
  doc.Parse(event.data(), event.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  std::string header;
  if (columns_.empty()) {  // a topic with no known schema: the first event's fields
    FlattenJson(doc, "", [&](const std::string& path, const rapidjson::Value&) { columns_.push_back(path); });
    AppendHeader(&header);
  }
  row_.assign(columns_.size(), std::string());
  FlattenJson(doc, "", [&](const std::string& path, const rapidjson::Value& v) {
    auto it = std::find(columns_.begin(), columns_.end(), path);
    if (it == columns_.end()) {
      ++unplaced_fields_;
      return;
    }
    row_[static_cast<size_t>(it - columns_.begin())] = LeafText(v);
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
