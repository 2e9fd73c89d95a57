// Timeline: what a run counts per time window, for the soak scenario's latency-over-time plot.
//
// Windows are cut on the send schedule: a message belongs to the window of its intended send time
// (the stamp's send_ns, the due time of the open-loop schedule), whenever its ack or its deliveries
// arrive. So a window's count of deliveries against its acked messages is that window's delivered
// ratio, and its histogram is the send->delivery latency of the messages sent in it. Every process
// of a run cuts its windows from the same start (the barrier's go time), so Merge adds them window by
// window. Off (no windows) until Start; a Stats owns one and writes it only when it is on.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/loadgen/histogram.h"

namespace chatpipe::bench {

struct TimeWindow {
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t delivered = 0;   // unique deliveries of the window's messages, at every receiver
  Histogram delivery_us;    // their send->delivery latency
};

class Timeline {
 public:
  // At most this many windows (two hours of 5-second windows): later times are not counted.
  static constexpr size_t kMaxWindows = 1440;

  void Start(int64_t start_ns, int64_t window_ns);  // window_ns <= 0 leaves it off
  bool on() const { return window_ns_ > 0; }
  int64_t start_ns() const { return start_ns_; }
  int64_t window_ns() const { return window_ns_; }
  const std::vector<TimeWindow>& windows() const { return windows_; }

  // Each takes the message's intended send time; times before the start or past the last window
  // are not counted.
  void Sent(int64_t send_ns);
  void Acked(int64_t send_ns);
  void Delivered(int64_t send_ns, uint64_t latency_us);

  // Whether `other` is cut the same way (same start and width), or either is off: then they merge.
  bool Compatible(const Timeline& other) const;
  // Adds a Compatible `other`'s windows to these; an off timeline takes other's start and width.
  void Merge(const Timeline& other);

  // {"start_ns":..,"window_ns":..,"windows":[{"sent":..,"acked":..,"delivered":..,"delivery_us":{..}},..]}
  void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w) const;
  static Result<Timeline> FromJson(const rapidjson::Value& v);

 private:
  TimeWindow* At(int64_t ns);

  int64_t start_ns_ = 0;
  int64_t window_ns_ = 0;
  std::vector<TimeWindow> windows_;
};

}  // namespace chatpipe::bench
