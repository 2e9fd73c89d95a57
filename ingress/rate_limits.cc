#include "ingress/rate_limits.h"

#include <CLI/CLI.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

#include "common/message_id.h"
#include "common/metrics.h"
#include "common/steady_clock.h"
#include "ingress/connection.h"
#include "ingress/http_status.h"
#include "ingress/loop.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& unchecked = Counter("chatpipe_ingress_rate_limits_unchecked_total",
                            "shared rate limits not checked because Redis did not answer (let through)");

// Sends a connection awaits acks for get this as their wait: the next ack is usually milliseconds away.
constexpr int64_t kInFlightRetryMs = 100;

const RateLimitConfig& Limits(Connection& conn) { return conn.loop().services().config.limits; }

Refusal Refuse(std::string_view limit, int64_t wait_ms, std::string reason) {
  CountRefusal(limit);
  return {wait_ms, std::move(reason)};
}

}  // namespace

void AddRateLimitOptions(CLI::App* app, RateLimitConfig* c) {
  struct Spec {
    const char* flag;
    BucketSpec* spec;
    const char* what;
  };
  const Spec specs[] = {
      {"sends-per-connection", &c->sends_per_connection, "messages one connection may send"},
      {"sends-per-user", &c->sends_per_user, "messages one user may send, over all connections and instances"},
      {"joins-per-connection", &c->joins_per_connection,
       "room joins of one WebSocket (and its board_subscribes and, under a cooldown, its places: each asks Redis)"},
      {"rooms-per-user", &c->rooms_per_user, "rooms one user may create"},
      {"rooms-per-address", &c->rooms_per_address, "rooms created from one client address"},
      {"members-per-user", &c->members_per_user,
       "members one user may add to private rooms (POST /api/rooms/{id}/members), added or not"},
      {"guests-per-address", &c->guests_per_address, "guest sessions opened from one client address"},
      {"signups-per-address", &c->signups_per_address, "sign-ups (POST /api/users) from one client address"},
      {"signins-per-address", &c->signins_per_address,
       "sign-ins (POST /api/sessions) from one client address, right or wrong: each costs a password check"},
      {"login-failures-per-account", &c->login_failures_per_account,
       "failed sign-ins to one account name, after which its sign-ins are refused until the bucket refills"},
      {"login-failures-per-address", &c->login_failures_per_address,
       "failed sign-ins from one client address, after which its sign-ins are refused until the bucket refills"},
      {"verify-mails-per-user", &c->verify_mails_per_user,
       "verification e-mails one user may ask for again (POST /api/users/verify/resend)"},
      {"verify-mails-per-address", &c->verify_mails_per_address,
       "verification e-mails asked for again from one client address"},
      {"verify-links-per-address", &c->verify_links_per_address,
       "verification links followed (GET /api/users/verify) from one client address"},
      {"uploads-per-user", &c->uploads_per_user, "images one user may upload (POST /api/rooms/{id}/uploads)"},
      {"speech-per-user", &c->speech_per_user, "speech requests of one user (POST /api/messages/{id}/speech)"},
      {"board-reads-per-address", &c->board_reads_per_address, "whole-board reads from one client address (GET /api/board)"},
      {"object-reads-per-address", &c->object_reads_per_address,
       "images and other objects read from one client address (GET /api/rooms/{id}/objects/{sha256})"},
      {"db-reads-per-user", &c->db_reads_per_user,
       "history pages before the newest, room statistics and mention lists one user may ask for (each is a database read)"},
      {"db-reads-per-address", &c->db_reads_per_address,
       "history pages before the newest, room statistics and mention lists asked for from one client address"},
      {"pixel-reads-per-address", &c->pixel_reads_per_address,
       "pixel stories read from one client address (GET /api/board/pixels/{x}/{y})"},
  };
  for (const Spec& s : specs) {
    std::string flag = std::string("--limit-") + s.flag;
    std::string env = "CHATPIPE_LIMIT_" + std::string(s.flag);
    std::transform(env.begin(), env.end(), env.begin(), [](char ch) { return ch == '-' ? '_' : std::toupper(ch); });
    app->add_option(flag, *s.spec, std::string(s.what) + ": N/PERIOD (N at once, then N per PERIOD: 30/10s, 5/m, 10/1h) or off")
        ->envname(env)
        ->type_name("N/PERIOD")
        ->capture_default_str();
  }
  app->add_option("--limit-sends-in-flight", c->sends_in_flight, "sends of one connection awaiting their ack; more are refused")
      ->envname("CHATPIPE_LIMIT_SENDS_IN_FLIGHT")
      ->capture_default_str();
  app->add_option("--password-threads", c->password_threads,
                  "threads hashing and checking passwords, apart from the PostgreSQL pool")
      ->envname("CHATPIPE_PASSWORD_THREADS")
      ->capture_default_str();
  app->add_option("--password-queue", c->password_queue,
                  "sign-ins and sign-ups that may wait for a password thread; more are answered 503 busy")
      ->envname("CHATPIPE_PASSWORD_QUEUE")
      ->capture_default_str();
}

namespace {
constexpr char kRateLimited[] = "chatpipe_ingress_rate_limited_total";
constexpr char kRateLimitedHelp[] = "requests refused by a rate limit, by limit";
// Described from the start, though a limit's series appears with its first refusal.
[[maybe_unused]] const bool rate_limited_declared = (Metrics::Global().Declare(kRateLimited, kRateLimitedHelp), true);
}  // namespace

void CountUnchecked() { unchecked.Add(); }

void CountRefusal(std::string_view limit) { Counter(kRateLimited, kRateLimitedHelp, {{"limit", std::string(limit)}}).Add(); }

std::vector<std::string> TokenBucketArgs(const std::vector<SharedBucket>& buckets, int64_t now_ms, int cost) {
  std::vector<std::string> args;
  args.reserve(3 + 3 * buckets.size());
  args.push_back(std::to_string(buckets.size()));
  for (const SharedBucket& b : buckets) args.push_back(b.key);
  args.push_back(std::to_string(now_ms));
  args.push_back(std::to_string(cost));
  for (const SharedBucket& b : buckets) {
    args.push_back(std::to_string(b.spec.burst));
    args.push_back(std::to_string(b.spec.period_ms));
  }
  return args;
}

namespace {

// Takes `cost` tokens from buckets that one Redis shard holds, all or none; `done` gets the wait.
void TakeOnShard(Loop& loop, const std::vector<SharedBucket>& buckets, int cost, std::function<void(int64_t)> done) {
  static const RedisScript script(kTokenBucketScript);
  loop.redis().Eval(script, TokenBucketArgs(buckets, NowMs(), cost), [done = std::move(done)](redisReply* r) {
    if (!r || r->type != REDIS_REPLY_INTEGER) {
      CountUnchecked();
      return done(0);
    }
    done(r->integer);
  });
}

// Runs TakeOnShard on every group at once; `done` gets the longest wait once all have answered.
void TakeOnShards(Loop& loop, const std::vector<std::vector<SharedBucket>>& groups, int cost,
                  std::function<void(int64_t)> done) {
  struct Pending {
    size_t left;
    int64_t wait = 0;
    std::function<void(int64_t)> done;
  };
  auto pending = std::make_shared<Pending>(Pending{groups.size(), 0, std::move(done)});
  for (const auto& group : groups)
    TakeOnShard(loop, group, cost, [pending](int64_t wait) {
      pending->wait = std::max(pending->wait, wait);
      if (--pending->left == 0) pending->done(pending->wait);
    });
}

}  // namespace

void TakeShared(Loop& loop, std::vector<SharedBucket> buckets, int cost, std::function<void(int64_t wait_ms)> done) {
  buckets.erase(std::remove_if(buckets.begin(), buckets.end(), [](const SharedBucket& b) { return b.spec.off(); }),
                buckets.end());
  if (buckets.empty() || loop.services().short_circuit) return done(0);
  // A script may only touch its own shard's keys: the buckets go in one call per shard.
  std::vector<std::vector<SharedBucket>> groups(loop.redis().shards());
  for (SharedBucket& b : buckets) groups[loop.redis().ShardOf(b.key)].push_back(std::move(b));
  std::erase_if(groups, [](const auto& g) { return g.empty(); });
  if (groups.size() == 1 || cost == 0) return TakeOnShards(loop, groups, cost, std::move(done));
  // All or none across shards: every shard is asked first whether it has the tokens, and only then
  // are they taken, so a client over one limit does not also spend its share of another (a per-user
  // refusal must not drain a per-address bucket that others behind the same address share). A race
  // between the look and the take can only refuse more, never let more through.
  Loop* at = &loop;
  TakeOnShards(loop, groups, 0, [at, groups, cost, done = std::move(done)](int64_t wait) mutable {
    if (wait > 0) return done(wait);
    TakeOnShards(*at, groups, cost, std::move(done));
  });
}

void AdmitSend(Connection& conn, int64_t user, std::function<void(Connection&, const Refusal&)> then) {
  const RateLimitConfig& limits = Limits(conn);
  ConnectionBuckets& mine = conn.buckets();
  if (limits.sends_in_flight > 0 && mine.sends_in_flight >= limits.sends_in_flight)
    return then(conn, Refuse("sends_in_flight", kInFlightRetryMs,
                             std::to_string(mine.sends_in_flight) + " sends await their ack; wait for one"));
  if (int64_t wait = mine.sends.Take(limits.sends_per_connection, SteadyMs()))
    return then(conn, Refuse("sends_per_connection", wait,
                             "this connection may send " + limits.sends_per_connection.ToString()));
  ++mine.sends_in_flight;
  Loop* loop = &conn.loop();
  uint64_t id = conn.id();
  loop->send_allowance().Admit(user, [loop, id, then = std::move(then)](int64_t wait) {
    Connection* c = loop->FindConnection(id);
    if (!c) return;
    if (!wait) return then(*c, Refusal{});
    SendAnswered(*c);
    then(*c, Refuse("sends_per_user", wait, "each user may send " + Limits(*c).sends_per_user.ToString()));
  });
}

void SendAnswered(Connection& conn) {
  if (conn.buckets().sends_in_flight > 0) --conn.buckets().sends_in_flight;
}

Refusal AdmitJoin(Connection& conn) {
  const BucketSpec& spec = Limits(conn).joins_per_connection;
  if (int64_t wait = conn.buckets().joins.Take(spec, SteadyMs()))
    return Refuse("joins_per_connection", wait,
                  "this connection may ask Redis for " + spec.ToString() + " joins, board subscriptions and placements");
  return {};
}

void AdmitRequest(Connection& conn, std::string_view limit, std::string reason, std::vector<SharedBucket> buckets,
                  std::function<void(Connection&)> then) {
  Loop* loop = &conn.loop();
  uint64_t id = conn.id();
  TakeShared(*loop, std::move(buckets), 1,
             [loop, id, limit = std::string(limit), reason = std::move(reason), then = std::move(then)](int64_t wait) {
               Connection* c = loop->FindConnection(id);
               if (!c) return;
               if (!wait) return then(*c);
               RespondRateLimited(*c, Refuse(limit, wait, reason));
             });
}

void AdmitDatabaseRead(Connection& conn, int64_t user, std::function<void(Connection&)> then) {
  Loop& loop = conn.loop();
  const RateLimitConfig& limits = loop.services().config.limits;
  AdmitRequest(conn, "db_reads", "too many history pages, statistics or mention lists asked for; try again later",
               {UserBucket(loop, "db_reads", user, limits.db_reads_per_user),
                AddressBucket(loop, "db_reads", conn.ClientAddress(), limits.db_reads_per_address)},
               std::move(then));
}

void RespondRateLimited(Connection& conn, const Refusal& refusal) {
  int64_t seconds = std::max<int64_t>(1, (refusal.retry_after_ms + 999) / 1000);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String("rate_limited");
  w.Key("reason");
  w.String(refusal.reason.data(), static_cast<rapidjson::SizeType>(refusal.reason.size()));
  w.Key("retry_after_ms");
  w.Int64(refusal.retry_after_ms);
  w.EndObject();
  w.EndObject();
  conn.Respond(429, "application/json", std::string_view(buf.GetString(), buf.GetSize()),
               "Retry-After: " + std::to_string(seconds) + "\r\n");
}

SharedBucket AddressBucket(Loop& loop, std::string_view what, const std::string& address, const BucketSpec& spec) {
  return {LimitKey(loop.redis_prefix(), what, "addr:" + address), spec};
}

SharedBucket UserBucket(Loop& loop, std::string_view what, int64_t user, const BucketSpec& spec) {
  return {LimitKey(loop.redis_prefix(), what, "user:" + std::to_string(user)), spec};
}

SharedBucket AccountBucket(Loop& loop, std::string_view what, std::string_view account, const BucketSpec& spec) {
  std::string name(account.substr(0, 64));  // longer names exist nowhere; the key stays small
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return {LimitKey(loop.redis_prefix(), what, "account:" + name), spec};
}

}  // namespace chatpipe
