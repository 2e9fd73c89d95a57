// Small helpers for writing JSON with rapidjson's Writer, shared by the code that builds JSON
// parameters for PostgreSQL's set-based statements (jsonb_to_recordset and the like).
#pragma once

#include <string_view>

#include <rapidjson/rapidjson.h>

namespace chatpipe {

// `s` as a JSON string, or null when it is empty (SQL NULL once PostgreSQL reads it).
template <typename Writer>
void StringOrNull(Writer& w, std::string_view s) {
  if (s.empty())
    w.Null();
  else
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace chatpipe
