// Stats: what one generator thread counted, merged per process and written as that process's JSON
// result; `chatpipe-loadgen report` reads several of these back and merges them again.
//
// Times are CLOCK_REALTIME nanoseconds (0: never happened), so processes of one machine compare.
// Latencies are microseconds in Histograms. Maps count by error code or by room id.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/timeline.h"

namespace chatpipe::bench {

struct Stats {
  // Connecting: TCP connect plus the WebSocket handshake.
  uint64_t connected = 0;
  std::map<std::string, uint64_t> connect_errors;
  Histogram connect_us;
  int64_t connect_start_ns = 0;
  int64_t connect_done_ns = 0;  // the last connection resolved (opened or failed)

  // Joining rooms.
  uint64_t joined = 0;
  uint64_t reconnected = 0;  // visitors that came back: connected and joined again (churn)
  std::map<std::string, uint64_t> join_errors;

  // Sending (open loop).
  uint64_t sent = 0;
  uint64_t not_sent = 0;  // schedule slots with no open, joined sender to take them
  uint64_t acked = 0;
  uint64_t unacked = 0;   // sent, and neither acked nor refused by the end of the drain
  std::map<std::string, uint64_t> send_errors;
  std::map<int64_t, uint64_t> acked_by_room;
  Histogram ack_us;       // intended send time to ack
  Histogram lag_us;       // how late the generator sent each message against its schedule
  int64_t first_send_ns = 0;
  int64_t last_send_ns = 0;
  int64_t last_ack_ns = 0;

  // Receiving this run's messages.
  uint64_t delivered = 0;    // every delivery, duplicates included
  uint64_t duplicates = 0;   // a receiver saw the same message again
  uint64_t reordered = 0;    // a message arrived with a room position not above the previous one
  uint64_t foreign = 0;      // message frames not sent by this run
  Histogram delivery_us;     // intended send time to delivery, per receiving connection
  // The same, on the senders' own connections only. When the senders have a thread of their own
  // (a few among many receivers), it reads them promptly: this is what the server's side takes,
  // without the time the deliveries wait for the receiving threads' pass over their sockets.
  Histogram sender_delivery_us;
  // delivery_us again, per room (its receivers' room); only rooms with deliveries have one.
  std::map<int64_t, Histogram> delivery_us_by_room;
  int64_t last_delivery_ns = 0;
  std::map<int64_t, uint64_t> members_by_room;  // joined connections still open at the end

  // Threads whose drain hit its time limit with acks or deliveries still coming: what was still in
  // flight then counts as lost.
  uint64_t drain_cut = 0;

  // Connections that ended before the generator closed them, by close code or socket error.
  std::map<std::string, uint64_t> closed;

  // Per time window of the send schedule (soak); written only when on.
  Timeline timeline;

  void Merge(const Stats& other);
  void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w) const;
  static Result<Stats> FromJson(const rapidjson::Value& v);
};

}  // namespace chatpipe::bench
