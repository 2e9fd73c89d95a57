// Rate limits: what one connection, user or address may ask of ingress per unit of time, and the
// checks the routes make against them.
//
// Each limit is a token bucket (BucketSpec, ingress/token_bucket.h). Those of one connection (its
// sends, its joins, the sends it awaits an ack for) live in the Connection (ConnectionBuckets) and
// are checked on its loop with no round trip. Those of a user or an address hold across every
// ingress instance: they live in Redis and are checked with one script call (kTokenBucketScript, by
// its digest) on the loop's command link, pipelined with its other commands. While Redis is away they do not hold
// (a limiter outage must not stop the chat; the local limits still do), which
// chatpipe_ingress_rate_limits_unchecked_total counts.
//
// A refusal is code `rate_limited` with when to try again: HTTP 429 with Retry-After (whole seconds)
// and the usual error body, or a WebSocket `error` frame with `retry_after_ms`. The connection stays
// open. Refusals are counted in chatpipe_ingress_rate_limited_total{limit="..."}.
//
// A client's address is Connection::ClientAddress(): its TCP peer's, or behind a --trusted-proxies
// proxy the one X-Forwarded-For names; an IPv6 client by its /64 (ingress/client_address.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ingress/token_bucket.h"

namespace CLI {
class App;
}

namespace chatpipe {

class Connection;
class Loop;

// Defaults a busy room lives with: a person types far below them, a script or a flood does not.
struct RateLimitConfig {
  BucketSpec sends_per_connection{50, 10000};  // 5 a second, bursts of 50
  BucketSpec sends_per_user{100, 10000};       // over all the user's connections, on every instance
  int sends_in_flight = 100;                   // sends of one connection awaiting their ack
  BucketSpec joins_per_connection{100, 10000};
  BucketSpec rooms_per_user{20, 3600000};
  BucketSpec rooms_per_address{60, 3600000};
  // Private-room member additions: each new member makes every loop's next room list a PostgreSQL read.
  BucketSpec members_per_user{100, 3600000};
  BucketSpec guests_per_address{60, 600000};
  BucketSpec signups_per_address{20, 3600000};
  // Every sign-in costs a password check on the shared pool, a right one too.
  BucketSpec signins_per_address{30, 60000};
  BucketSpec login_failures_per_account{10, 300000};  // then sign-ins to it wait, right password or not
  BucketSpec login_failures_per_address{100, 300000};
  BucketSpec verify_mails_per_user{3, 3600000};      // verification e-mails asked for again
  BucketSpec verify_mails_per_address{20, 3600000};
  // Verification links followed (public: a forged link that looks right costs a database read).
  BucketSpec verify_links_per_address{60, 600000};
  BucketSpec uploads_per_user{20, 60000};            // image uploads: decoding is the costliest request
  BucketSpec speech_per_user{20, 60000};             // speech requests (POST /api/messages/{id}/speech)
  // Board reads are public: per address, roomy enough for a school behind one NAT loading the page.
  BucketSpec board_reads_per_address{600, 60000};    // GET /api/board
  BucketSpec pixel_reads_per_address{600, 60000};    // GET /api/board/pixels/{x}/{y}
  BucketSpec object_reads_per_address{600, 60000};   // GET /api/rooms/{id}/objects/{sha256}: images, public in public rooms
  // The database reads a client asks for by hand (AdmitDatabaseRead): a person scrolls a page a second.
  BucketSpec db_reads_per_user{300, 60000};
  BucketSpec db_reads_per_address{3000, 60000};
  int password_threads = 2;    // the PasswordPool hashing and checking passwords
  int password_queue = 64;     // sign-ins and sign-ups waiting for it; more are answered 503 busy
};

void AddRateLimitOptions(CLI::App* app, RateLimitConfig* config);

// A connection's own buckets (16 bytes each), and its count of sends and of pixel placements in
// flight (board_api.h kPlacementsInFlight bounds those).
struct ConnectionBuckets {
  TokenBucket sends;
  TokenBucket joins;
  int sends_in_flight = 0;
  int placements_in_flight = 0;
};

// A used-up limit: how long to wait (0: none) and why.
struct Refusal {
  int64_t retry_after_ms = 0;
  std::string reason;
  explicit operator bool() const { return retry_after_ms > 0; }
};

// One shared bucket: its Redis key (LimitKey) and shape.
struct SharedBucket {
  std::string key;
  BucketSpec spec;
};

// kTokenBucketScript's numkeys, keys and arguments for taking `cost` tokens from `buckets` at `now_ms`.
std::vector<std::string> TokenBucketArgs(const std::vector<SharedBucket>& buckets, int64_t now_ms, int cost);

// Takes `cost` tokens (0: only looks) from every bucket, all or none (kTokenBucketScript, by EVALSHA, one
// call per Redis shard: buckets on several shards are looked at first, then taken); `done` gets 0, or
// the milliseconds to wait. Buckets that are off are skipped; with none left, or Redis away, `done`
// gets 0, at once when none are left.
void TakeShared(Loop& loop, std::vector<SharedBucket> buckets, int cost, std::function<void(int64_t wait_ms)> done);

// Admits a send of `conn`'s for `user`: its acks owed (sends_in_flight), its own bucket, then the
// user's over every instance (the loop's SendAllowance, which seldom waits for Redis). `then` gets an
// empty Refusal once admitted, and the send counts as in flight until SendAnswered; or the refusal.
// It does not run if the connection closed meanwhile.
void AdmitSend(Connection& conn, int64_t user, std::function<void(Connection&, const Refusal&)> then);
void SendAnswered(Connection& conn);
// A join of `conn`'s, against its own bucket.
Refusal AdmitJoin(Connection& conn);

// Takes a token from each bucket for the request `conn` is serving; `then` runs once admitted, and
// the client gets 429 `rate_limited` with `reason` otherwise (counted as `limit`). Nothing runs if
// the connection closed meanwhile.
void AdmitRequest(Connection& conn, std::string_view limit, std::string reason, std::vector<SharedBucket> buckets,
                  std::function<void(Connection&)> then);
// AdmitRequest for a database read a client asks for by hand: a history page from PostgreSQL
// (`before`), a room's statistics, the mentions list. Each is one or more queries on the loop's
// pool, which every other request of the process shares, so they take from `user`'s bucket and the
// client address's (--limit-db-reads-per-user, --limit-db-reads-per-address).
void AdmitDatabaseRead(Connection& conn, int64_t user, std::function<void(Connection&)> then);
// The 429 answer: Retry-After in whole seconds, rounded up.
void RespondRateLimited(Connection& conn, const Refusal& refusal);
// Counts a refusal of `limit` (chatpipe_ingress_rate_limited_total{limit=...}).
void CountRefusal(std::string_view limit);
// Counts a request let through because Redis did not answer (chatpipe_ingress_rate_limits_unchecked_total).
void CountUnchecked();

// The buckets of the Redis keys used by the routes. `address`: the client's; `account`: a name as
// typed at sign-in (lower-cased here, as names match case-insensitively).
SharedBucket AddressBucket(Loop& loop, std::string_view what, const std::string& address, const BucketSpec& spec);
SharedBucket UserBucket(Loop& loop, std::string_view what, int64_t user, const BucketSpec& spec);
SharedBucket AccountBucket(Loop& loop, std::string_view what, std::string_view account, const BucketSpec& spec);

}  // namespace chatpipe
