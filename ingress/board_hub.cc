#include "ingress/board_hub.h"

#include <hiredis/hiredis.h>

#include "common/events.h"
#include "common/metrics.h"
#include "ingress/connection.h"
#include "ingress/loop.h"
#include "ingress/shared_frame.h"
#include "storage/board_store.h"

namespace chatpipe {
namespace {

Metric& frames_sent = Counter("chatpipe_ingress_board_frames_total", "pixels frames sent to board subscribers");
Metric& board_reads = Counter("chatpipe_ingress_board_reads_total", "boards read from Redis for GET /api/board");

}  // namespace

void BoardHub::Subscribe(Connection* conn) {
  if (link_ == Link::kSubscribed) return Welcome(conn);
  waiting_.insert(conn);
  if (link_ == Link::kNone) SubscribeChannel();  // kUnsubscribing: OnUnsubscribed subscribes again
}

// The loop hears the channel: frames flow to `conn` from now, and the board's version, read after
// that, tells it how new a board it needs (every change above it reaches it as a frame).
void BoardHub::Welcome(Connection* conn) {
  members_.insert(conn);
  Loop* loop = loop_;
  const uint64_t id = conn->id();
  loop_->redis().Command({"GET", BoardVersionKey(loop_->redis_prefix())}, [loop, id](redisReply* r) {
    Connection* c = loop->FindConnection(id);
    if (!c || !loop->board().members_.count(c)) return;
    const int64_t v = r && r->type == REDIS_REPLY_STRING ? std::strtoll(r->str, nullptr, 10) : 0;
    c->SendText(R"({"type":"board_subscribed","v":)" + std::to_string(v) + "}");
  });
}

void BoardHub::Unsubscribe(Connection* conn) {
  Remove(conn);
  conn->SendText(R"({"type":"board_unsubscribed"})");
}

void BoardHub::Remove(Connection* conn) {
  if (members_.erase(conn) + waiting_.erase(conn) == 0) return;
  MaybeUnsubscribe();
}

void BoardHub::SubscribeChannel() {
  link_ = Link::kSubscribing;
  loop_->redis().Subscribe(BoardChannel(loop_->redis_prefix()));
}

// Nobody left to hear it: the loop stops receiving the board's traffic.
void BoardHub::MaybeUnsubscribe() {
  if (link_ != Link::kSubscribed || !members_.empty() || !waiting_.empty()) return;
  link_ = Link::kUnsubscribing;
  loop_->redis().Unsubscribe(BoardChannel(loop_->redis_prefix()));
}

bool BoardHub::OnSubscribed(std::string_view channel) {
  if (channel != BoardChannel(loop_->redis_prefix())) return false;
  link_ = Link::kSubscribed;
  for (Connection* c : waiting_) Welcome(c);
  waiting_.clear();
  MaybeUnsubscribe();
  return true;
}

bool BoardHub::OnUnsubscribed(std::string_view channel) {
  if (channel != BoardChannel(loop_->redis_prefix())) return false;
  link_ = Link::kNone;
  if (!members_.empty() || !waiting_.empty()) SubscribeChannel();
  return true;
}

void BoardHub::OnSubscriberLost(size_t shard) {
  if (shard != loop_->redis().ShardOf(BoardChannel(loop_->redis_prefix()))) return;
  link_ = Link::kNone;
  // Members stay: what was published meanwhile is lost to this loop, and the next frame's `prev`
  // shows its subscribers the gap. Until Redis confirms again nothing reaches them anyway.
}

void BoardHub::ResubscribeAll(size_t shard) {
  if (shard != loop_->redis().ShardOf(BoardChannel(loop_->redis_prefix()))) return;
  if (link_ == Link::kNone && (!members_.empty() || !waiting_.empty())) SubscribeChannel();
}

bool BoardHub::OnChannelMessage(std::string_view channel, std::string_view payload) {
  if (channel != BoardChannel(loop_->redis_prefix())) return false;
  PixelsFrame f;
  if (members_.empty() || !ReadPixelsFrame(payload, &f)) return true;
  newest_seen_ = std::max(newest_seen_, f.v);
  if (merged_v_ >= 0 && f.prev != merged_v_) EndMerged();
  if (merged_v_ < 0) {
    merged_prev_ = f.prev;
  } else if (!f.items.empty() && !merged_items_.empty()) {
    merged_items_ += ',';
  }
  merged_items_.append(f.items);
  merged_v_ = f.v;
  loop_->ScheduleFlush();
  return true;
}

void BoardHub::EndMerged() {
  if (merged_v_ < 0) return;
  ready_.push_back(EncodePixelsFrame(merged_prev_, merged_v_, merged_items_));
  merged_items_.clear();
  merged_prev_ = merged_v_ = -1;
}

void BoardHub::Flush() {
  EndMerged();
  for (const std::string& text : ready_) {
    SharedFrame* frame = SharedFrame::MakeText(text);
    // A send can drop a slow reader; that only schedules its close, so members_ stays intact here.
    for (Connection* c : members_) c->SendShared(frame);
    frame->Unref();
    frames_sent.Add(static_cast<double>(members_.size()));
  }
  ready_.clear();
}

void BoardHub::Read(int64_t min_version, ReadDone done) {
  // A version above any this loop has seen may not exist: while the cached board is fresh it forces
  // no read, or a made-up ?v= would read the whole board from Redis on every request.
  min_version = std::min(min_version, newest_seen_);
  if (cached_ && cached_->version >= min_version &&
      std::chrono::steady_clock::now() - cached_->read_at < kBoardCacheMs)
    return done(cached_);
  readers_.push_back(std::move(done));
  if (reading_) return;
  reading_ = true;
  static const RedisScript script(kBoardReadScript);
  const std::string& p = loop_->redis_prefix();
  loop_->redis().Eval(script, {"2", BoardKey(p), BoardVersionKey(p)}, [this](redisReply* r) { OnRead(r); });
}

// Every request that waited gets this read: it began after theirs unless one was already under way,
// and a client that still finds its board too old asks again with ?v= (docs/board.md).
void BoardHub::OnRead(redisReply* r) {
  reading_ = false;
  std::vector<ReadDone> readers;
  readers.swap(readers_);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_STRING) {
    for (ReadDone& done : readers) done(Status::Unavailable("redis_unavailable", "the board cannot be read now"));
    return;
  }
  board_reads.Add();
  auto snapshot = std::make_shared<BoardSnapshot>();
  const redisReply* version = r->element[0];
  snapshot->version = version->type == REDIS_REPLY_STRING ? std::strtoll(version->str, nullptr, 10) : 0;
  // The bitfield ends at its last pixel ever set: the rest of the board is colour 0.
  snapshot->bytes.assign(r->element[1]->str, r->element[1]->len);
  snapshot->bytes.resize(loop_->services().config.board.bytes(), '\0');
  snapshot->read_at = std::chrono::steady_clock::now();
  newest_seen_ = std::max(newest_seen_, snapshot->version);
  cached_ = snapshot;
  for (ReadDone& done : readers) done(cached_);
}

}  // namespace chatpipe
