#include "bench/loadgen/worker.h"

#include <event2/event.h>

#include <cstring>
#include <ctime>

#include "bench/loadgen/conn.h"

namespace chatpipe::bench {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Worker::Worker(WorkerConfig config, std::vector<ConnSpec> specs)
    : config_(std::move(config)), specs_(std::move(specs)), rng_(std::random_device{}()) {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);  // the schedule wants sub-ms timers
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  tick_ = event_new(base_, -1, EV_PERSIST, OnTick, this);
  send_timer_ = evtimer_new(base_, OnSendTimer, this);
  for (const ConnSpec& spec : specs_) {
    conns_.push_back(std::make_unique<Conn>(this, spec));
    if (spec.sender && spec.room) senders_.push_back(conns_.back().get());
    if (spec.visitor) visitors_.push_back(conns_.size() - 1);
  }
}

Worker::~Worker() {
  Quit();
  conns_.clear();
  event_free(send_timer_);
  event_free(tick_);
  event_base_free(base_);
}

void Worker::Start() {
  thread_ = std::thread([this] {
    const timeval every{0, 10000};
    event_add(tick_, &every);
    stats_.connect_start_ns = NowNs();
    if (conns_.empty()) {
      stats_.connect_done_ns = stats_.connect_start_ns;
      ready_.store(true, std::memory_order_release);
    }
    StartNext();
    event_base_dispatch(base_);
  });
}

void Worker::Quit() {
  quit_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void Worker::StartNext() {
  static thread_local bool starting = false;  // a connection failing at once re-enters through Resolved
  if (starting) return;
  starting = true;
  const size_t allowed = ConnectsAllowed();
  while (next_to_start_ < allowed && next_to_start_ - resolved_ < static_cast<size_t>(config_.connect_concurrency))
    conns_[next_to_start_++]->Open();
  starting = false;
}

size_t Worker::ConnectsAllowed() const {
  if (config_.connect_rate <= 0) return conns_.size();
  const double elapsed_s = static_cast<double>(NowNs() - stats_.connect_start_ns) / 1e9;
  return std::min(conns_.size(), static_cast<size_t>(1 + elapsed_s * config_.connect_rate));
}

void Worker::Resolved() {
  ++resolved_;
  if (resolved_ == conns_.size()) {
    stats_.connect_done_ns = NowNs();
    ready_.store(true, std::memory_order_release);
    return;
  }
  StartNext();
}

void Worker::OnTick(int, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  if (w->quit_.load(std::memory_order_acquire)) {
    event_base_loopbreak(w->base_);
    return;
  }
  if (w->frozen_) return;
  if (w->next_to_start_ < w->conns_.size()) w->StartNext();  // a bounded --connect-rate lets more go now
  const int64_t now = NowNs();
  if (!w->start_) {
    const int64_t start = w->start_ns_.load(std::memory_order_acquire);
    if (!start) return;
    w->start_ = start;
    w->stats_.timeline.Start(start, w->config_.window_ns);
    w->last_activity_ns_ = start + w->config_.duration_ns;
    if (w->config_.rate > 0) w->ScheduleSend(now);
    return;
  }
  const int64_t end = w->start_ + w->config_.duration_ns;
  if (now < end) return w->Churn(now);
  const bool quiet = w->pending_acks_ == 0 && now - w->last_activity_ns_ >= w->config_.quiet_ns;
  if (quiet) return w->Freeze();
  if (now >= end + w->config_.drain_ns) {
    w->stats_.drain_cut = 1;
    w->Freeze();
  }
}

void Worker::ScheduleSend(int64_t now_ns) {
  const int64_t due = start_ + static_cast<int64_t>(static_cast<double>(scheduled_) * 1e9 / config_.rate);
  if (due >= start_ + config_.duration_ns) return;
  const int64_t wait_us = std::max<int64_t>(0, (due - now_ns) / 1000);
  const timeval tv{static_cast<time_t>(wait_us / 1'000'000), static_cast<suseconds_t>(wait_us % 1'000'000)};
  evtimer_add(send_timer_, &tv);
}

void Worker::OnSendTimer(int, short, void* arg) { static_cast<Worker*>(arg)->SendDue(); }

// Sends every message whose due time has come (all of them at once if the thread fell behind),
// then sleeps until the next one is due.
void Worker::SendDue() {
  if (frozen_) return;
  const int64_t now = NowNs();
  const int64_t end = start_ + config_.duration_ns;
  for (;;) {
    const int64_t due = start_ + static_cast<int64_t>(static_cast<double>(scheduled_) * 1e9 / config_.rate);
    if (due >= end) return;
    if (due > now + 20'000) return ScheduleSend(now);  // not due within 20 us: sleep
    Conn* to = nullptr;
    for (size_t tries = 0; tries < senders_.size() && !to; ++tries) {
      Conn* c = senders_[next_sender_++ % senders_.size()];
      if (c->live()) to = c;
    }
    ++scheduled_;
    if (!to) {
      stats_.not_sent++;
      continue;
    }
    to->SendMessage(due);
    stats_.sent++;
    stats_.timeline.Sent(due);
    if (!stats_.first_send_ns) stats_.first_send_ns = now;
    stats_.last_send_ns = now;
    stats_.lag_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - due) / 1000));
  }
}

// Visitors leave and come back at the churn rate, in turn: the old connection closes (the server
// sees the socket end), and a new one opens and joins the same room. Those still coming back from
// their last turn wait for the next. Runs from the tick, never inside a connection's callback.
void Worker::Churn(int64_t now_ns) {
  if (config_.churn <= 0 || visitors_.empty() || now_ns < start_) return;  // the start may be a moment ahead
  const auto due = static_cast<uint64_t>(static_cast<double>(now_ns - start_) * config_.churn / 1e9);
  for (; churned_ < due; ++churned_) {
    const size_t index = visitors_[next_visitor_++ % visitors_.size()];
    if (!conns_[index]->live()) continue;
    conns_[index] = std::make_unique<Conn>(this, specs_[index], true);
    conns_[index]->Open();
  }
}

void Worker::Freeze() {
  frozen_ = true;
  event_del(send_timer_);
  for (const auto& c : conns_) c->Finish(&stats_);
  done_.store(true, std::memory_order_release);
}

void Worker::MaskKey(uint8_t key[4]) {
  const uint64_t r = rng_();
  std::memcpy(key, &r, 4);
}

}  // namespace chatpipe::bench
