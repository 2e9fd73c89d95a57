#include "bench/loadgen/timeline.h"

namespace chatpipe::bench {

void Timeline::Start(int64_t start_ns, int64_t window_ns) {
  if (window_ns <= 0) return;
  start_ns_ = start_ns;
  window_ns_ = window_ns;
  windows_.clear();
}

TimeWindow* Timeline::At(int64_t ns) {
  if (!on() || ns < start_ns_) return nullptr;
  const uint64_t index = static_cast<uint64_t>((ns - start_ns_) / window_ns_);
  if (index >= kMaxWindows) return nullptr;
  if (index >= windows_.size()) windows_.resize(index + 1);
  return &windows_[index];
}

void Timeline::Sent(int64_t send_ns) {
  if (TimeWindow* w = At(send_ns)) w->sent++;
}

void Timeline::Acked(int64_t send_ns) {
  if (TimeWindow* w = At(send_ns)) w->acked++;
}

void Timeline::Delivered(int64_t send_ns, uint64_t latency_us) {
  if (TimeWindow* w = At(send_ns)) {
    w->delivered++;
    w->delivery_us.Record(latency_us);
  }
}

bool Timeline::Compatible(const Timeline& o) const {
  return !on() || !o.on() || (o.start_ns_ == start_ns_ && o.window_ns_ == window_ns_);
}

void Timeline::Merge(const Timeline& o) {
  if (!o.on()) return;
  if (!on()) {
    *this = o;
    return;
  }
  if (o.windows_.size() > windows_.size()) windows_.resize(o.windows_.size());
  for (size_t i = 0; i < o.windows_.size(); ++i) {
    windows_[i].sent += o.windows_[i].sent;
    windows_[i].acked += o.windows_[i].acked;
    windows_[i].delivered += o.windows_[i].delivered;
    windows_[i].delivery_us.Merge(o.windows_[i].delivery_us);
  }
}

void Timeline::WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w) const {
  w.StartObject();
  w.Key("start_ns");
  w.Int64(start_ns_);
  w.Key("window_ns");
  w.Int64(window_ns_);
  w.Key("windows");
  w.StartArray();
  for (const TimeWindow& t : windows_) {
    w.StartObject();
    w.Key("sent");
    w.Uint64(t.sent);
    w.Key("acked");
    w.Uint64(t.acked);
    w.Key("delivered");
    w.Uint64(t.delivered);
    w.Key("delivery_us");
    t.delivery_us.WriteJson(w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Result<Timeline> Timeline::FromJson(const rapidjson::Value& v) {
  auto bad = [](const char* why) { return Status::InvalidArgument("bad_timeline", why); };
  if (!v.IsObject() || !v.HasMember("start_ns") || !v["start_ns"].IsInt64() || !v.HasMember("window_ns") ||
      !v["window_ns"].IsInt64() || v["window_ns"].GetInt64() <= 0 || !v.HasMember("windows") || !v["windows"].IsArray())
    return bad("a timeline needs start_ns, a positive window_ns and a windows array");
  if (v["windows"].Size() > kMaxWindows) return bad("a timeline has too many windows");
  Timeline t;
  t.Start(v["start_ns"].GetInt64(), v["window_ns"].GetInt64());
  for (const auto& item : v["windows"].GetArray()) {
    TimeWindow win;
    for (auto [key, out] : {std::pair{"sent", &win.sent}, {"acked", &win.acked}, {"delivered", &win.delivered}}) {
      if (!item.IsObject() || !item.HasMember(key) || !item[key].IsUint64())
        return bad("a window needs unsigned sent, acked and delivered");
      *out = item[key].GetUint64();
    }
    if (!item.HasMember("delivery_us")) return bad("a window needs delivery_us");
    auto h = Histogram::FromJson(item["delivery_us"]);
    if (!h.ok()) return h.status();
    win.delivery_us = std::move(*h);
    t.windows_.push_back(std::move(win));
  }
  return t;
}

}  // namespace chatpipe::bench
