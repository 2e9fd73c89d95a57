#include "common/readiness.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chatpipe {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void String(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

}  // namespace

ReadinessAnswer Readiness(std::string_view instance, bool draining, const std::vector<CheckResult>& checks) {
  bool all_ok = true;
  for (const CheckResult& c : checks) all_ok = all_ok && c.state == "ok";
  ReadinessAnswer answer;
  answer.ready = all_ok && !draining;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("ready");
  w.Bool(answer.ready);
  w.Key("status");
  String(w, draining ? "draining" : all_ok ? "ok" : "not_ready");
  w.Key("instance");
  String(w, instance);
  w.Key("checks");
  w.StartObject();
  for (const CheckResult& c : checks) {
    String(w, c.name);
    String(w, c.state);
  }
  w.EndObject();
  w.EndObject();
  answer.json = buf.GetString();
  return answer;
}

std::string LivenessJson(std::string_view instance) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("live");
  w.Bool(true);
  w.Key("instance");
  String(w, instance);
  w.EndObject();
  return buf.GetString();
}

}  // namespace chatpipe
