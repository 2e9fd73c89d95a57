// How `chatpipe replay` writes one event: JSON Lines (the event's JSON as it is, one line) or CSV (a
// header row, then one row per event, one column per leaf field, nested fields flattened with dots).
//
// The CSV columns of chatpipe's own topics are fixed by their schemas (docs/events.md), so two replays
// of one topic always have the same columns, whatever the events hold; a topic with no known schema
// takes the columns of the first event it writes. A field with no column is counted, not written.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatpipe {

enum class ReplayFormat { kJsonl, kCsv };

// The CSV columns of the events of a topic, by its name without namespace; empty when not known.
std::vector<std::string> KnownCsvColumns(std::string_view topic);

// Calls `leaf(path, value)` for every leaf of `value`, depth first in document order: an object's
// members recurse as "prefix.key"; strings, numbers, booleans, null and arrays are leaves. `path`
// holds the prefix on entry and is restored on return (one buffer for the whole walk).
template <typename Leaf>
void FlattenJson(const rapidjson::Value& value, std::string* path, Leaf&& leaf) {
  if (!value.IsObject()) {
    leaf(std::string_view(*path), value);
    return;
  }
  const size_t prefix = path->size();
  for (const auto& m : value.GetObject()) {
    if (prefix) path->push_back('.');
    path->append(m.name.GetString(), m.name.GetStringLength());
    FlattenJson(m.value, path, leaf);
    path->resize(prefix);
  }
}

// A JSON object parsed into buffers reused from one event to the next, so that parsing an event of
// usual size allocates nothing. What Parse returns lives until the next Parse.
class ScratchJson {
 public:
  ScratchJson();
  ScratchJson(const ScratchJson&) = delete;
  ScratchJson& operator=(const ScratchJson&) = delete;
  // The parsed object, or null when `text` is not a JSON object.
  const rapidjson::Value* Parse(std::string_view text);

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
  char values_buffer_[16384];
  char stack_buffer_[4096];
  Pool values_, stack_;
  std::optional<Document> doc_;
};

// One CSV field, quoted (RFC 4180) when it holds a comma, a quote, CR or LF.
void AppendCsvField(std::string_view text, std::string* out);

class EventFormatter {
 public:
  // `columns`: the CSV columns, or empty to take the first event's (unused for JSON Lines).
  EventFormatter(ReplayFormat format, std::vector<std::string> columns);

  // What the output starts with: the CSV header when the columns are known, else nothing.
  std::string Start();
  // Appends the output for one event (its JSON text) to `out`. False, appending nothing, for an
  // event that cannot be written whole: not a JSON object (CSV), or not one line (JSON Lines).
  bool Append(std::string_view event, std::string* out);

  const std::vector<std::string>& columns() const { return columns_; }
  // Fields met that have no column (CSV), over every event so far.
  int64_t unplaced_fields() const { return unplaced_fields_; }

 private:
  void AppendHeader(std::string* out) const;

  ReplayFormat format_;
  std::vector<std::string> columns_;
  int64_t unplaced_fields_ = 0;
  std::vector<std::string> row_;  // one row's fields, reused
  std::string path_;               // FlattenJson's buffer
  ScratchJson json_;
};

}  // namespace chatpipe
