#include "ingress/send_allowance.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "common/message_id.h"
#include "common/metrics.h"
#include "common/steady_clock.h"
#include "ingress/loop.h"
#include "ingress/rate_limits.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& calls = Counter("chatpipe_ingress_send_allowance_calls_total",
                        "script calls to Redis for the sends-per-user limit (each for a loop iteration's "
                        "sends on one shard)");

std::string SendsKey(Loop& loop, int64_t user) {
  return LimitKey(loop.redis_prefix(), "sends", "user:" + std::to_string(user));
}

}  // namespace

void SendAllowance::Admit(int64_t user, Done done) {
  if (spec_.off() || loop_->services().short_circuit) return done(0);
  const int64_t now = SteadyMs();
  User& u = users_[user];
  if (now < u.refused_until) return done(u.refused_until - now);
  // On credit only when none of the user's sends waits: a send never overtakes an earlier one.
  if (u.credit > 0 && now < u.credit_until && u.waiting.empty()) {
    --u.credit;
    ++u.taken;
    List(user, u);
    return done(0);
  }
  if (u.waiting.size() >= kMaxWaiting) return done(kBusyRetryMs);
  u.waiting.push_back(std::move(done));
  List(user, u);
}

void SendAllowance::List(int64_t user, User& u) {
  if (!u.listed) {
    u.listed = true;
    to_call_.push_back(user);
  }
  loop_->ScheduleFlush();
}

void SendAllowance::Flush() {
  if (to_call_.empty()) return;
  std::vector<std::vector<Keyed>> by_shard(loop_->redis().shards());
  for (int64_t id : to_call_) {
    auto it = users_.find(id);
    if (it == users_.end()) continue;
    User& u = it->second;
    u.listed = false;
    // A user with a call on its way is listed again by its answer.
    if (u.calling || (u.taken == 0 && u.waiting.empty())) continue;
    std::string key = SendsKey(*loop_, id);
    by_shard[loop_->redis().ShardOf(key)].push_back({id, std::move(key)});
  }
  to_call_.clear();
  for (std::vector<Keyed>& users : by_shard)
    for (size_t first = 0; first < users.size(); first += kMaxUsersPerCall)
      Call(std::span<Keyed>(users).subspan(first, std::min(kMaxUsersPerCall, users.size() - first)));
}

void SendAllowance::Call(std::span<Keyed> users) {
  static const RedisScript script(kSendAllowanceScript);
  auto asked = std::make_shared<std::vector<Asked>>();
  asked->reserve(users.size());
  std::vector<std::string> args;
  args.reserve(2 + 5 * users.size());
  args.push_back(std::to_string(users.size()));
  for (Keyed& k : users) args.push_back(std::move(k.key));
  args.push_back(std::to_string(NowMs()));
  for (const Keyed& k : users) {
    const int64_t id = k.user;
    User& u = users_[id];
    args.push_back(std::to_string(u.taken));
    args.push_back(std::to_string(u.waiting.size()));
    args.push_back(std::to_string(spec_.burst));
    args.push_back(std::to_string(spec_.period_ms));
    u.taken = 0;
    u.calling = true;
    asked->push_back({id, std::move(u.waiting)});
    u.waiting.clear();
  }
  calls.Add();
  // Eval routes the call by its first key: every key here is on that key's shard.
  loop_->redis().Eval(script, std::move(args), [this, asked](redisReply* r) { Answer(*asked, r); });
}

void SendAllowance::Answer(const std::vector<Asked>& asked, const redisReply* r) {
  const bool answered = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 * asked.size();
  if (!answered) CountUnchecked();
  const int64_t now = SteadyMs();
  for (size_t i = 0; i < asked.size(); ++i) {
    // Not swept while calling, so it is there.
    User& u = users_[asked[i].user];
    u.calling = false;
    // Unanswered: let the asked through, with no credit (the next send asks again).
    int64_t granted = static_cast<int64_t>(asked[i].waiting.size()), left = 0, wait = 0;
    if (answered) {
      granted = r->element[3 * i]->integer;
      left = r->element[3 * i + 1]->integer;
      wait = r->element[3 * i + 2]->integer;
    }
    // What this loop admitted on credit since the call is not in `left` yet.
    u.credit = static_cast<int>(std::clamp<int64_t>(left - u.taken, 0, max_credit_));
    u.credit_until = now + kCreditMs;
    if (wait > 0) u.refused_until = now + wait;
    // Sends made since the call come after the asked, in order: refused with them, or admitted on
    // the new credit as far as it goes (the rest wait for the next call).
    std::vector<Done> refused, admitted;
    if (wait > 0) {
      refused.swap(u.waiting);
    } else {
      const size_t n = std::min(u.waiting.size(), static_cast<size_t>(u.credit));
      admitted.assign(std::make_move_iterator(u.waiting.begin()), std::make_move_iterator(u.waiting.begin() + n));
      u.waiting.erase(u.waiting.begin(), u.waiting.begin() + n);
      u.credit -= static_cast<int>(n);
      u.taken += static_cast<int>(n);
    }
    if (u.taken > 0 || !u.waiting.empty()) List(asked[i].user, u);
    for (size_t j = 0; j < asked[i].waiting.size(); ++j)
      asked[i].waiting[j](static_cast<int64_t>(j) < granted ? 0 : wait);
    for (Done& d : admitted) d(0);
    for (Done& d : refused) d(wait);
  }
}

void SendAllowance::Sweep(int64_t now_ms) {
  if (now_ms < next_sweep_ms_) return;
  next_sweep_ms_ = now_ms + kCreditMs;
  std::erase_if(users_, [now_ms](const auto& entry) {
    const User& u = entry.second;
    return !u.calling && !u.listed && u.taken == 0 && u.waiting.empty() && now_ms >= u.credit_until &&
           now_ms >= u.refused_until;
  });
}

}  // namespace chatpipe
