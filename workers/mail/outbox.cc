#include "workers/mail/outbox.h"

#include <algorithm>

namespace chatpipe::mail {
namespace {

std::vector<int64_t> ParseArray(std::string_view s) {
  std::vector<int64_t> out;
  std::string cur;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::stoll(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::stoll(cur));
  return out;
}

}  // namespace

std::string SqlArray(const std::vector<int64_t>& ids) {
  std::string s = "{";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "}";
}

Result<int> Outbox::Enqueue(const std::vector<Mention>& mentions, int64_t window_ms) {
  if (mentions.empty()) return 0;
  std::string batch = "[";
  for (const auto& m : mentions) {
    if (batch.size() > 1) batch += ',';
    batch += EncodeMention(m);
  }
  batch += ']';
  auto r = pg_.Exec("SELECT mail_enqueue($1::jsonb, $2)", {batch, std::to_string(window_ms)});
  if (!r.ok()) return r.status();
  return static_cast<int>(r->Int(0, 0));
}

Status Outbox::Commit() { return pg_.ExecScript("COMMIT"); }

Status Outbox::InTransaction(Status s) {
  if (!s.ok()) Release();
  return s;
}

void Outbox::Release() { (void)pg_.ExecScript("ROLLBACK"); }

Result<std::optional<DueMail>> Outbox::LockNextDue() {
  if (Status s = pg_.ExecScript("BEGIN"); !s.ok()) return s;
  auto row = pg_.Exec(
      "SELECT o.id, o.user_id, o.template, o.attempts, o.message_id,"
      "       (extract(epoch FROM o.created_at) * 1000000)::bigint,"
      "       u.id IS NOT NULL, coalesce(u.name, ''), coalesce(u.email, ''), coalesce(u.email_notifications, false),"
      "       u.email_verified_at IS NOT NULL, coalesce(o.data::text, '')"
      "  FROM mail_outbox o LEFT JOIN users u ON u.id = o.user_id"
      " WHERE o.state IN ('open', 'retry') AND o.due_at <= now()"
      " ORDER BY o.due_at LIMIT 1"
      "   FOR UPDATE OF o SKIP LOCKED");
  if (!row.ok()) return InTransaction(row.status());
  if (row->rows() == 0) {
    Release();
    return std::optional<DueMail>();
  }
  DueMail m;
  m.id = row->Int(0, 0);
  m.user_id = row->Int(0, 1);
  m.template_name = std::string(row->Text(0, 2));
  m.attempts = static_cast<int>(row->Int(0, 3));
  if (!row->IsNull(0, 4)) m.message_id = std::string(row->Text(0, 4));
  m.created_us = row->Int(0, 5);
  m.user_exists = row->Bool(0, 6);
  m.user_name = std::string(row->Text(0, 7));
  m.email = std::string(row->Text(0, 8));
  m.notifications = row->Bool(0, 9);
  m.verified = row->Bool(0, 10);
  m.data = std::string(row->Text(0, 11));

  // A mention whose row is gone from `mentions` counts as unread: the event carries all the e-mail needs.
  auto mentions = pg_.Exec(
      "SELECT mm.mention_id, mm.event::text, m.read_at IS NOT NULL"
      "  FROM mail_mentions mm LEFT JOIN mentions m ON m.id = mm.mention_id"
      " WHERE mm.outbox_id = $1 ORDER BY mm.mention_id",
      {std::to_string(m.id)});
  if (!mentions.ok()) return InTransaction(mentions.status());
  for (int i = 0; i < mentions->rows(); ++i) {
    m.mention_ids.push_back(mentions->Int(i, 0));
    m.events.emplace_back(mentions->Text(i, 1));
    if (mentions->Bool(i, 2)) continue;
    auto decoded = DecodeMention(mentions->Text(i, 1));
    if (decoded.ok()) m.unread.push_back(std::move(*decoded));
  }
  // In the order they were written (ids are time-ordered), whatever order they were mentioned in.
  std::stable_sort(m.unread.begin(), m.unread.end(), [](const Mention& a, const Mention& b) {
    if (a.message_ts != b.message_ts) return a.message_ts < b.message_ts;
    if (a.message_id.size() != b.message_id.size()) return a.message_id.size() < b.message_id.size();
    return a.message_id < b.message_id;
  });
  if (!m.email.empty()) {
    auto sup = pg_.Exec("SELECT reason FROM mail_suppressions WHERE address = lower($1)", {m.email});
    if (!sup.ok()) return InTransaction(sup.status());
    if (sup->rows() > 0) m.suppressed = std::string(sup->Text(0, 0));
  }
  return std::optional<DueMail>(std::move(m));
}

Status Outbox::Drop(const DueMail& m, const std::string& why) {
  auto r = pg_.Exec("UPDATE mail_outbox SET state = 'dropped', last_error = $2, mention_ids = $3 WHERE id = $1",
                    {std::to_string(m.id), why, SqlArray(m.mention_ids)});
  if (!r.ok()) return InTransaction(r.status());
  return Commit();
}

Status Outbox::Kill(const DueMail& m, const std::string& why) {
  auto r = pg_.Exec(
      "UPDATE mail_outbox SET state = 'dead', last_error = $2, mention_ids = $3, to_addr = nullif($4, '')"
      " WHERE id = $1",
      {std::to_string(m.id), why, SqlArray(m.mention_ids), m.email});
  if (!r.ok()) return InTransaction(r.status());
  return Commit();
}

Status Outbox::Defer(const DueMail& m, int64_t delay_ms, const std::string& why) {
  auto r = pg_.Exec(
      "UPDATE mail_outbox SET state = 'retry', last_error = $2,"
      "       due_at = clock_timestamp() + $3 * interval '1 millisecond'"
      " WHERE id = $1",
      {std::to_string(m.id), why, std::to_string(delay_ms)});
  if (!r.ok()) return InTransaction(r.status());
  return Commit();
}

Status Outbox::Claim(const DueMail& m, const std::string& claim, const std::string& message_id) {
  std::vector<int64_t> ids;
  for (const auto& u : m.unread) ids.push_back(u.mention_id);
  auto r = pg_.Exec(
      "UPDATE mail_outbox SET state = 'sending', claim = $2, claimed_at = clock_timestamp(),"
      "       attempts = attempts + 1, message_id = $3, to_addr = $4, mention_ids = $5"
      " WHERE id = $1",
      {std::to_string(m.id), claim, message_id, m.email, SqlArray(ids)});
  if (!r.ok()) return InTransaction(r.status());
  return Commit();
}

Status Outbox::FinishSent(int64_t id, const std::string& claim) {
  // 'unknown' too: the sweep may have given up on a claim that was merely slow.
  return pg_.Exec(
                "UPDATE mail_outbox SET state = 'sent', sent_at = clock_timestamp(), last_error = NULL"
                " WHERE id = $1 AND claim = $2 AND state IN ('sending', 'unknown')",
                {std::to_string(id), claim})
      .status();
}

Status Outbox::FinishRetry(int64_t id, const std::string& claim, int64_t delay_ms, const std::string& why) {
  return pg_.Exec(
                "UPDATE mail_outbox SET state = 'retry', last_error = $3,"
                "       due_at = clock_timestamp() + $4 * interval '1 millisecond'"
                " WHERE id = $1 AND claim = $2 AND state = 'sending'",
                {std::to_string(id), claim, why, std::to_string(delay_ms)})
      .status();
}

Status Outbox::FinishDead(int64_t id, const std::string& claim, const std::string& why, bool suppress) {
  return pg_.Exec(
                "WITH d AS (UPDATE mail_outbox SET state = 'dead', last_error = $3"
                "            WHERE id = $1 AND claim = $2 AND state IN ('sending', 'unknown') RETURNING to_addr)"
                " INSERT INTO mail_suppressions (address, reason, detail)"
                " SELECT lower(to_addr), 'bounce', $3 FROM d WHERE $4::boolean"
                " ON CONFLICT (address) DO NOTHING",
                {std::to_string(id), claim, why, suppress ? "true" : "false"})
      .status();
}

Status Outbox::FinishUnknown(int64_t id, const std::string& claim, const std::string& why) {
  return pg_.Exec(
                "UPDATE mail_outbox SET state = 'unknown', last_error = $3"
                " WHERE id = $1 AND claim = $2 AND state = 'sending'",
                {std::to_string(id), claim, why})
      .status();
}

Result<std::optional<ExpiredClaim>> Outbox::LockExpiredClaim(int64_t lease_ms) {
  if (Status s = pg_.ExecScript("BEGIN"); !s.ok()) return s;
  auto row = pg_.Exec(
      "SELECT id, user_id, coalesce(to_addr, ''), coalesce(message_id, ''), coalesce(mention_ids, '{}')::text"
      "  FROM mail_outbox"
      " WHERE state = 'sending' AND claimed_at < clock_timestamp() - $1 * interval '1 millisecond'"
      " ORDER BY claimed_at LIMIT 1 FOR UPDATE SKIP LOCKED",
      {std::to_string(lease_ms)});
  if (!row.ok()) return InTransaction(row.status());
  if (row->rows() == 0) {
    Release();
    return std::optional<ExpiredClaim>();
  }
  ExpiredClaim c;
  c.id = row->Int(0, 0);
  c.user_id = row->Int(0, 1);
  c.to_addr = std::string(row->Text(0, 2));
  c.message_id = std::string(row->Text(0, 3));
  c.mention_ids = ParseArray(row->Text(0, 4));
  auto events = pg_.Exec("SELECT event::text FROM mail_mentions WHERE mention_id = ANY($1::bigint[]) ORDER BY mention_id",
                         {SqlArray(c.mention_ids)});
  if (!events.ok()) return InTransaction(events.status());
  for (int i = 0; i < events->rows(); ++i) c.events.emplace_back(events->Text(i, 0));
  return std::optional<ExpiredClaim>(std::move(c));
}

Status Outbox::ExpireClaim(const ExpiredClaim& c, const std::string& why) {
  auto r = pg_.Exec("UPDATE mail_outbox SET state = 'unknown', last_error = $2 WHERE id = $1",
                    {std::to_string(c.id), why});
  if (!r.ok()) return InTransaction(r.status());
  return Commit();
}

}  // namespace chatpipe::mail
