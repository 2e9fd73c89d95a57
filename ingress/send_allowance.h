// SendAllowance: what one ingress loop knows of its users' shared send buckets (the sends-per-user
// limit, which Redis keeps for every instance), so that a send seldom waits for Redis.
//
// Why: the bucket was one script call and one round trip per send, before the send was stamped: two
// thirds of Redis's cpu at 35,000 msg/s (bench/README.md, "ingest"), and a round trip on every send's
// way to its ack. Now each answer from Redis leaves the loop a credit: the whole tokens the bucket
// held, at most kMaxCredit and an eighth of the burst, for kCreditMs. A send within it is admitted at
// once and its token taken afterwards; a send without credit waits for the next call. Every user's
// tokens of one loop iteration, taken and asked for, go in one script call per Redis shard
// (kSendAllowanceScript, kMaxUsersPerCall users at most) at the loop's end-of-iteration flush, and a
// user refused is refused here until the wait is over, asking nothing.
//
// The price: a credit is what the bucket held when Redis answered, and the user's other loops and
// instances may spend the same tokens meanwhile, so a user sending from several loops at once can get
// up to a credit a loop past the limit (an eighth of the burst at most: none under a burst of 8, where
// every send asks). Those tokens are taken anyway (the bucket goes below zero) and the user waits them
// off, so over time the limit holds exactly. Within one loop it holds exactly. While Redis does not
// answer, sends are let through as before (a limiter outage must not stop the chat) and counted in
// chatpipe_ingress_rate_limits_unchecked_total.
//
// Owned by its Loop; loop thread only. Memory: an entry per user who sent on this loop within the last
// kCreditMs, is waiting, or is refused for a while: at most its users with connections.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingress/token_bucket.h"

struct redisReply;

namespace chatpipe {

class Loop;

class SendAllowance {
 public:
  static constexpr int kMaxCredit = 16;
  static constexpr int64_t kCreditMs = 5000;
  // Sends of one user that may wait for a call; more are refused for kBusyRetryMs. Far above what the
  // per-connection limits let through between two answers.
  static constexpr size_t kMaxWaiting = 1024;
  static constexpr int64_t kBusyRetryMs = 100;
  // A call's users: a script holds Redis for as long as it runs.
  static constexpr size_t kMaxUsersPerCall = 256;

  // 0: admitted; else the milliseconds until a send would be.
  using Done = std::function<void(int64_t wait_ms)>;

  SendAllowance(Loop* loop, const BucketSpec& spec)
      : loop_(loop), spec_(spec), max_credit_(std::min(kMaxCredit, spec.burst / 8)) {}

  // Admits a send of `user`'s. `done` runs at once when this loop knows enough (a credit, a refusal, the
  // limit off), else once Redis has answered the next call. A user's sends are answered in the order
  // they came: while some wait, a credit goes to them first, never to a later send.
  void Admit(int64_t user, Done done);
  // The calls for this iteration's sends (Loop::OnFlush).
  void Flush();
  // Forgets the users with nothing to take or ask whose credit and refusal are over.
  void Sweep(int64_t now_ms);

 private:
  struct User {
    int credit = 0;
    int64_t credit_until = 0;   // SteadyMs
    int64_t refused_until = 0;  // SteadyMs
    int taken = 0;               // tokens of sends admitted on credit, not yet taken in Redis
    std::vector<Done> waiting;   // sends asking for a token in the next call
    bool calling = false;        // a call for this user awaits its answer
    bool listed = false;         // in to_call_
  };
  struct Asked {
    int64_t user;
    std::vector<Done> waiting;
  };
  struct Keyed {
    int64_t user;
    std::string key;  // the user's bucket in Redis
  };

  void List(int64_t user, User& u);
  void Call(std::span<Keyed> users);  // users of one shard; their keys are moved into the call
  void Answer(const std::vector<Asked>& asked, const redisReply* reply);

  Loop* loop_;
  const BucketSpec spec_;
  const int max_credit_;
  std::unordered_map<int64_t, User> users_;
  std::vector<int64_t> to_call_;
  int64_t next_sweep_ms_ = 0;
};

}  // namespace chatpipe
