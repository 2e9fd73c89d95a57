// Outbox: the mailer's PostgreSQL state (tables in storage/migrations/003_mail.sql, docs/mail.md).
//
// Intake records chat.notify events with Enqueue(), in one statement per batch, before their Kafka
// offsets are stored. The sender takes the oldest due row with LockNextDue(), which opens a transaction
// and locks that row (SKIP LOCKED: mailers never wait for each other), decides, and ends the
// transaction with exactly one of Drop, Kill, Defer, Claim or Release. Claim() commits 'sending' BEFORE
// the SMTP transaction; the Finish* calls then record its outcome, and only for the claim they are
// given, so a claim taken over by the expired-claim sweep is never overwritten by anything but 'sent'.
// One Outbox per thread (it owns one connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/pg.h"
#include "workers/mail/notify_event.h"

namespace chatpipe::mail {

struct DueMail {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string template_name;
  int attempts = 0;
  std::string message_id;  // empty until the first claim
  int64_t created_us = 0;
  bool user_exists = false;
  std::string user_name;
  std::string email;  // empty when the user has none
  bool notifications = false;
  bool verified = false;  // the address was verified (users.email_verified_at)
  std::string data;       // the row's own data (JSON), for e-mails other than mention digests; "" if none
  std::vector<Mention> unread;            // oldest message first
  std::vector<int64_t> mention_ids;       // all of the row's mentions, read or not
  std::vector<std::string> events;        // their recorded events (JSON), for dead letters
  std::string suppressed;                 // the suppression reason when the address is suppressed
};

struct ExpiredClaim {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string to_addr;
  std::string message_id;
  std::vector<int64_t> mention_ids;
  std::vector<std::string> events;
};

class Outbox {
 public:
  explicit Outbox(std::string conninfo) : pg_(std::move(conninfo)) {}

  // Records new mentions (a replayed one changes nothing); returns how many were new.
  Result<int> Enqueue(const std::vector<Mention>& mentions, int64_t window_ms);

  // Opens a transaction holding the oldest due row; nullopt (and no transaction) when none is due.
  Result<std::optional<DueMail>> LockNextDue();
  Status Drop(const DueMail& m, const std::string& why);                  // -> dropped, commit
  Status Kill(const DueMail& m, const std::string& why);                  // -> dead, commit
  Status Defer(const DueMail& m, int64_t delay_ms, const std::string& why);  // -> retry, commit
  // -> sending, attempts + 1, commit. After this the row is never sent again by anyone.
  Status Claim(const DueMail& m, const std::string& claim, const std::string& message_id);
  void Release();  // rollback: the row stays as it was

  Status FinishSent(int64_t id, const std::string& claim);
  Status FinishRetry(int64_t id, const std::string& claim, int64_t delay_ms, const std::string& why);
  // -> dead; with `suppress`, the address joins mail_suppressions as a bounce, in the same statement.
  Status FinishDead(int64_t id, const std::string& claim, const std::string& why, bool suppress);
  Status FinishUnknown(int64_t id, const std::string& claim, const std::string& why);

  // Opens a transaction holding the oldest 'sending' row claimed more than lease_ms ago.
  Result<std::optional<ExpiredClaim>> LockExpiredClaim(int64_t lease_ms);
  Status ExpireClaim(const ExpiredClaim& c, const std::string& why);  // -> unknown, commit

 private:
  Status Commit();
  Status InTransaction(Status s);  // rolls back when s failed
  PgConn pg_;
};

// The SQL array literal for ids: {1,2,3}.
std::string SqlArray(const std::vector<int64_t>& ids);

}  // namespace chatpipe::mail
