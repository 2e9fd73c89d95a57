#include "bench/loadgen/stats.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace chatpipe::bench {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <typename K>
void AddAll(std::map<K, uint64_t>* into, const std::map<K, uint64_t>& from) {
  for (const auto& [k, n] : from) (*into)[k] += n;
}

std::optional<int64_t> RoomId(const rapidjson::Value& key) {
  int64_t room = 0;
  std::string_view text(key.GetString(), key.GetStringLength());
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), room);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return room;
}

int64_t Earliest(int64_t a, int64_t b) { return !a ? b : !b ? a : std::min(a, b); }

template <typename K>
void WriteMap(Writer& w, const char* name, const std::map<K, uint64_t>& m) {
  w.Key(name);
  w.StartObject();
  for (const auto& [k, n] : m) {
    if constexpr (std::is_same_v<K, std::string>) w.Key(k.c_str());
    else w.Key(std::to_string(k).c_str());
    w.Uint64(n);
  }
  w.EndObject();
}

// The fields, listed once for writing and reading.
template <typename S, typename F>
void ForEachCounter(S& s, F f) {
  f("connected", s.connected);
  f("joined", s.joined);
  f("reconnected", s.reconnected);
  f("sent", s.sent);
  f("not_sent", s.not_sent);
  f("acked", s.acked);
  f("unacked", s.unacked);
  f("delivered", s.delivered);
  f("duplicates", s.duplicates);
  f("reordered", s.reordered);
  f("foreign", s.foreign);
  f("drain_cut", s.drain_cut);
}
template <typename S, typename F>
void ForEachTime(S& s, F f) {
  f("connect_start_ns", s.connect_start_ns);
  f("connect_done_ns", s.connect_done_ns);
  f("first_send_ns", s.first_send_ns);
  f("last_send_ns", s.last_send_ns);
  f("last_ack_ns", s.last_ack_ns);
  f("last_delivery_ns", s.last_delivery_ns);
}
template <typename S, typename F>
void ForEachHistogram(S& s, F f) {
  f("connect_us", s.connect_us);
  f("ack_us", s.ack_us);
  f("lag_us", s.lag_us);
  f("delivery_us", s.delivery_us);
  f("sender_delivery_us", s.sender_delivery_us);
}
template <typename S, typename F>
void ForEachCodeMap(S& s, F f) {
  f("connect_errors", s.connect_errors);
  f("join_errors", s.join_errors);
  f("send_errors", s.send_errors);
  f("closed", s.closed);
}
template <typename S, typename F>
void ForEachRoomMap(S& s, F f) {
  f("acked_by_room", s.acked_by_room);
  f("members_by_room", s.members_by_room);
}

}  // namespace

void Stats::Merge(const Stats& o) {
  connected += o.connected;
  joined += o.joined;
  reconnected += o.reconnected;
  sent += o.sent;
  not_sent += o.not_sent;
  acked += o.acked;
  unacked += o.unacked;
  delivered += o.delivered;
  duplicates += o.duplicates;
  reordered += o.reordered;
  foreign += o.foreign;
  drain_cut += o.drain_cut;
  connect_start_ns = Earliest(connect_start_ns, o.connect_start_ns);
  first_send_ns = Earliest(first_send_ns, o.first_send_ns);
  connect_done_ns = std::max(connect_done_ns, o.connect_done_ns);
  last_send_ns = std::max(last_send_ns, o.last_send_ns);
  last_ack_ns = std::max(last_ack_ns, o.last_ack_ns);
  last_delivery_ns = std::max(last_delivery_ns, o.last_delivery_ns);
  connect_us.Merge(o.connect_us);
  ack_us.Merge(o.ack_us);
  lag_us.Merge(o.lag_us);
  delivery_us.Merge(o.delivery_us);
  sender_delivery_us.Merge(o.sender_delivery_us);
  for (const auto& [room, h] : o.delivery_us_by_room) delivery_us_by_room[room].Merge(h);
  AddAll(&connect_errors, o.connect_errors);
  AddAll(&join_errors, o.join_errors);
  AddAll(&send_errors, o.send_errors);
  AddAll(&closed, o.closed);
  AddAll(&acked_by_room, o.acked_by_room);
  AddAll(&members_by_room, o.members_by_room);
  timeline.Merge(o.timeline);
}

void Stats::WriteJson(Writer& w) const {
  w.StartObject();
  ForEachCounter(*this, [&](const char* name, uint64_t v) { w.Key(name); w.Uint64(v); });
  ForEachTime(*this, [&](const char* name, int64_t v) { w.Key(name); w.Int64(v); });
  ForEachHistogram(*this, [&](const char* name, const Histogram& h) { w.Key(name); h.WriteJson(w); });
  ForEachCodeMap(*this, [&](const char* name, const auto& m) { WriteMap(w, name, m); });
  ForEachRoomMap(*this, [&](const char* name, const auto& m) { WriteMap(w, name, m); });
  w.Key("delivery_us_by_room");
  w.StartObject();
  for (const auto& [room, h] : delivery_us_by_room) {
    w.Key(std::to_string(room).c_str());
    h.WriteJson(w);
  }
  w.EndObject();
  if (timeline.on()) {
    w.Key("timeline");
    timeline.WriteJson(w);
  }
  w.EndObject();
}

Result<Stats> Stats::FromJson(const rapidjson::Value& v) {
  if (!v.IsObject()) return Status::InvalidArgument("bad_stats", "stats must be an object");
  Stats s;
  Status error;
  auto fail = [&](const char* name, const char* what) {
    if (error.ok()) error = Status::InvalidArgument("bad_stats", std::string(name) + " must be " + what);
  };
  ForEachCounter(s, [&](const char* name, uint64_t& out) {
    if (!v.HasMember(name) || !v[name].IsUint64()) return fail(name, "an unsigned integer");
    out = v[name].GetUint64();
  });
  ForEachTime(s, [&](const char* name, int64_t& out) {
    if (!v.HasMember(name) || !v[name].IsInt64()) return fail(name, "an integer");
    out = v[name].GetInt64();
  });
  ForEachHistogram(s, [&](const char* name, Histogram& out) {
    if (!v.HasMember(name)) return fail(name, "a histogram");
    auto h = Histogram::FromJson(v[name]);
    if (!h.ok()) return fail(name, "a histogram");
    out = std::move(*h);
  });
  ForEachCodeMap(s, [&](const char* name, std::map<std::string, uint64_t>& out) {
    if (!v.HasMember(name) || !v[name].IsObject()) return fail(name, "an object");
    for (const auto& m : v[name].GetObject()) {
      if (!m.value.IsUint64()) return fail(name, "an object of counts");
      out[m.name.GetString()] = m.value.GetUint64();
    }
  });
  ForEachRoomMap(s, [&](const char* name, std::map<int64_t, uint64_t>& out) {
    if (!v.HasMember(name) || !v[name].IsObject()) return fail(name, "an object");
    for (const auto& m : v[name].GetObject()) {
      auto room = RoomId(m.name);
      if (!room || !m.value.IsUint64()) return fail(name, "an object of counts by room id");
      out[*room] = m.value.GetUint64();
    }
  });
  // Absent from results of generators older than it.
  if (v.HasMember("delivery_us_by_room")) {
    const char* name = "delivery_us_by_room";
    if (!v[name].IsObject()) fail(name, "an object");
    else
      for (const auto& m : v[name].GetObject()) {
        auto room = RoomId(m.name);
        auto h = Histogram::FromJson(m.value);
        if (!room || !h.ok()) {
          fail(name, "an object of histograms by room id");
          break;
        }
        s.delivery_us_by_room[*room] = std::move(*h);
      }
  }
  if (!error.ok()) return error;
  if (v.HasMember("timeline")) {
    auto t = Timeline::FromJson(v["timeline"]);
    if (!t.ok()) return t.status();
    s.timeline = std::move(*t);
  }
  return s;
}

}  // namespace chatpipe::bench
