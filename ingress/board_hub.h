// BoardHub: the pixel board on one loop (docs/board.md): its WebSocket subscribers, the fan-out of
// the board's channel to them, and the loop's copy of the board that GET /api/board answers from.
//
// Fan-out. The loop subscribes to the board's channel while it has subscribers. The `pixels` frames
// it receives during one loop iteration are merged while they follow one another (each one's `prev`
// is the last one's `v`), so a busy board costs each subscriber one frame per iteration; the merged
// frame is encoded once (SharedFrame) and appended to every subscriber at the end of the iteration.
// A frame that does not follow (the subscriber link was lost meanwhile) starts a new one: its `prev`
// tells clients that a version is missing, and they fetch the board again.
//
// Reads. GET /api/board asks Read(min_version). The loop keeps the last board it read from Redis
// (colours and version in one script call) for kBoardCacheMs, and answers from it while it is that
// fresh and at least `min_version` new (a `min_version` above every version the loop has seen counts
// as the newest it has seen); otherwise it reads Redis again, once for every request that waits
// meanwhile. Snapshots are shared, immutable: a response body references one, never copies it.
// Owned by its Loop; used on the loop's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"

struct redisReply;

namespace chatpipe {

class Connection;
class Loop;

// A loop's board read at one version: (width x height + 1) / 2 bytes.
struct BoardSnapshot {
  int64_t version = 0;
  std::string bytes;
  std::chrono::steady_clock::time_point read_at;
};

// How long a loop answers GET /api/board from the board it last read. Clients tell a stale board by
// its version (docs/board.md), so this only bounds how stale; it saves a 0.5 MB read per request.
inline constexpr std::chrono::milliseconds kBoardCacheMs{100};


class BoardHub {
 public:
  explicit BoardHub(Loop* loop) : loop_(loop) {}

  // Sends `conn` every frame once the loop hears the channel, and {"type":"board_subscribed","v":V}
  // with the board's version read after that: a board at V or newer, plus those frames, is the board.
  void Subscribe(Connection* conn);
  // Stops its frames and answers {"type":"board_unsubscribed"}.
  void Unsubscribe(Connection* conn);
  void Remove(Connection* conn);  // a closing connection: no answer

  // From the loop's subscriber connection; false when `channel` is not the board's.
  bool OnSubscribed(std::string_view channel);
  bool OnUnsubscribed(std::string_view channel);
  bool OnChannelMessage(std::string_view channel, std::string_view payload);
  // The Redis shard holding the board's channel lost its subscriber, or has one again.
  void OnSubscriberLost(size_t shard);
  void ResubscribeAll(size_t shard);
  // Sends this iteration's merged frames (from the loop's end-of-iteration flush).
  void Flush();

  using ReadDone = std::function<void(Result<std::shared_ptr<const BoardSnapshot>>)>;
  // The board at `min_version` or newer (or the newest Redis has, if it has none that new).
  void Read(int64_t min_version, ReadDone done);

  size_t subscriber_count() const { return members_.size(); }

 private:
  enum class Link : uint8_t { kNone, kSubscribing, kSubscribed, kUnsubscribing };
  void Welcome(Connection* conn);
  void SubscribeChannel();
  void MaybeUnsubscribe();
  void EndMerged();
  void OnRead(redisReply* reply);

  Loop* loop_;
  Link link_ = Link::kNone;
  std::unordered_set<Connection*> members_;  // receive frames
  std::unordered_set<Connection*> waiting_;  // subscribed once Redis confirms
  // This iteration's frames: done ones, and the one still taking frames that follow it.
  std::vector<std::string> ready_;
  std::string merged_items_;
  int64_t merged_prev_ = -1, merged_v_ = -1;  // -1: none open
  int64_t newest_seen_ = 0;  // the highest board version this loop has read or received
  std::shared_ptr<const BoardSnapshot> cached_;
  bool reading_ = false;
  std::vector<ReadDone> readers_;
};

}  // namespace chatpipe
