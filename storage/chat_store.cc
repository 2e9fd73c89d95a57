#include "storage/chat_store.h"

#include <sodium.h>

#include <charconv>

namespace chatpipe {
namespace {

UserRow ToUser(const PgResult& r, int row) { return {r.Int(row, 0), std::string(r.Text(row, 1)), r.Bool(row, 2)}; }

RoomRow ToRoom(const PgResult& r, int row) {
  return {r.Int(row, 0), std::string(r.Text(row, 1)), r.Bool(row, 2), r.Int(row, 3),
          ModerationFromColumns(r.Text(row, 4), r.Text(row, 5))};
}

std::vector<StoredMessage> ToMessages(const PgResult& r) {
  std::vector<StoredMessage> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(MessageFromRow(r, i));
  return out;
}

// With the tags when the tag worker has stored them, and the image a message carries.
constexpr const char* kMessageColumns =
    "m.id, m.room_id, m.pos, m.user_id, m.user_name, m.body, m.ts, m.client_msg_id, t.tags, i.image "
    "FROM messages m LEFT JOIN message_tags t ON t.message_id = m.id "
    "LEFT JOIN message_images i ON i.message_id = m.id";

}  // namespace

StoredMessage MessageFromRow(const PgResult& r, int row) {
  StoredMessage m;
  auto id = r.Text(row, 0);
  std::from_chars(id.data(), id.data() + id.size(), m.event.id);
  m.event.room = r.Int(row, 1);
  m.pos = r.Int(row, 2);
  m.event.user = {r.Int(row, 3), std::string(r.Text(row, 4))};
  m.event.text = std::string(r.Text(row, 5));
  m.event.ts_ms = r.Int(row, 6);
  if (!r.IsNull(row, 7)) m.event.client_msg_id = std::string(r.Text(row, 7));
  if (r.columns() > 8 && !r.IsNull(row, 8)) m.event.tags = std::string(r.Text(row, 8));
  if (r.columns() > 9 && !r.IsNull(row, 9)) m.event.image = std::string(r.Text(row, 9));
  return m;
}

Result<UserRow> CreateUser(PgConn& pg, const std::string& name, const std::string& email,
                           const std::string& password_hash) {
  auto r = pg.Exec("INSERT INTO users (name, email, password_hash) VALUES ($1, $2, $3) RETURNING id, name, guest",
                   {name, email, password_hash});
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kAlreadyExists) return Status::AlreadyExists("name_taken", "that user name is taken");
    return r.status();
  }
  return ToUser(*r, 0);
}

Result<std::optional<LoginRow>> FindLogin(PgConn& pg, const std::string& name) {
  auto r = pg.Exec("SELECT id, name, guest, password_hash FROM users WHERE lower(name) = lower($1)", {name});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<LoginRow>();
  LoginRow row{ToUser(*r, 0), std::nullopt};
  if (!r->IsNull(0, 3)) row.password_hash = std::string(r->Text(0, 3));
  return std::optional<LoginRow>(std::move(row));
}

// Guests accumulate (every visitor makes one), so the names come from nine billion: with ten million
// guests a draw is taken one time in 900, and five in a row practically never. Six digits ran out at
// scale: with 160,000 guests one new guest in 5,700 failed (a 100,000-connection benchmark hit it).
namespace {
std::string RandomGuestName() {
  uint64_t r;
  randombytes_buf(&r, sizeof r);
  return "guest-" + std::to_string(1'000'000'000 + r % 9'000'000'000);
}
}  // namespace

Result<UserRow> CreateGuest(PgConn& pg) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string name = RandomGuestName();
    auto r = pg.Exec("INSERT INTO users (name, guest) VALUES ($1, true) RETURNING id, name, guest", {name});
    if (r.ok()) return ToUser(*r, 0);
    if (r.status().code() != StatusCode::kAlreadyExists) return r.status();
  }
  return Status::Unavailable("busy", "could not find a free guest name; try again");
}

Result<UserRow> FindUserByName(PgConn& pg, const std::string& name) {
  auto r = pg.Exec("SELECT id, name, guest FROM users WHERE lower(name) = lower($1)", {name});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("unknown_user", "no user named " + name);
  return ToUser(*r, 0);
}

namespace {

Result<UserSettings> OneUserSettings(const Result<PgResult>& r, int64_t user) {
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("unknown_user", "no user with id " + std::to_string(user));
  return UserSettings{std::string(r->Text(0, 0)), r->Bool(0, 2), r->Bool(0, 1)};
}

}  // namespace

Result<UserSettings> UpdateUserSettings(PgConn& pg, int64_t user, bool email_notifications) {
  return OneUserSettings(pg.Exec("UPDATE users SET email_notifications = $2 WHERE id = $1 "
                                 "RETURNING coalesce(email, ''), email_notifications, email_verified_at IS NOT NULL",
                                 {std::to_string(user), email_notifications ? "true" : "false"}),
                         user);
}

// A read writes nothing: a client polling its settings costs no row version and no WAL.
Result<UserSettings> GetUserSettings(PgConn& pg, int64_t user) {
  return OneUserSettings(pg.Exec("SELECT coalesce(email, ''), email_notifications, email_verified_at IS NOT NULL "
                                 "FROM users WHERE id = $1",
                                 {std::to_string(user)}),
                         user);
}

Result<RoomRow> CreateRoom(PgConn& pg, int64_t creator, const std::string& name, bool is_private,
                           const Moderation& moderation) {
  auto r = pg.Exec(
      "WITH room AS (INSERT INTO rooms (name, private, created_by, moderation_mild, moderation_strong) "
      "VALUES ($1, $2, $3, $4, $5) RETURNING id, name, private, created_by, moderation_mild, moderation_strong), "
      "member AS (INSERT INTO room_members (room_id, user_id) SELECT id, created_by FROM room WHERE private) "
      "SELECT * FROM room",
      {name, is_private ? "true" : "false", std::to_string(creator), PolicyName(moderation.mild),
       PolicyName(moderation.strong)});
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kAlreadyExists) return Status::AlreadyExists("room_exists", "a room with that name exists");
    return r.status();
  }
  return ToRoom(*r, 0);
}

Result<RoomRow> GetRoom(PgConn& pg, int64_t room) {
  auto r = pg.Exec("SELECT id, name, private, created_by, moderation_mild, moderation_strong FROM rooms WHERE id = $1", {std::to_string(room)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("unknown_room", "no room with id " + std::to_string(room));
  return ToRoom(*r, 0);
}

Result<int64_t> MaxRoomId(PgConn& pg) {
  auto r = pg.Exec("SELECT coalesce(max(id), 0) FROM rooms");
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<bool> IsMember(PgConn& pg, int64_t room, int64_t user) {
  auto r = pg.Exec("SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2",
                   {std::to_string(room), std::to_string(user)});
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

Result<bool> AddMember(PgConn& pg, int64_t room, int64_t user) {
  auto r = pg.Exec("INSERT INTO room_members (room_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
                   {std::to_string(room), std::to_string(user)});
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

Result<std::vector<ListedRoom>> AllRooms(PgConn& pg) {
  auto r = pg.Exec(
      "SELECT r.id, r.name, r.private, r.created_by, r.moderation_mild, r.moderation_strong, "
      "coalesce(array_to_string(array_agg(m.user_id) "
      "FILTER (WHERE m.user_id IS NOT NULL), ','), '') "
      "FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND r.private "
      "GROUP BY r.id ORDER BY r.name");
  if (!r.ok()) return r.status();
  std::vector<ListedRoom> rooms;
  for (int i = 0; i < r->rows(); ++i) {
    ListedRoom listed{ToRoom(*r, i), {}};
    std::string_view ids = r->Text(i, 6);
    while (!ids.empty()) {
      auto comma = ids.find(',');
      int64_t id = 0;
      std::from_chars(ids.data(), ids.data() + (comma == std::string_view::npos ? ids.size() : comma), id);
      listed.members.push_back(id);
      ids.remove_prefix(comma == std::string_view::npos ? ids.size() : comma + 1);
    }
    rooms.push_back(std::move(listed));
  }
  return rooms;
}

Result<std::vector<StoredMessage>> MessagesBefore(PgConn& pg, int64_t room, int64_t before, int limit) {
  auto r = pg.Exec((std::string("SELECT ") + kMessageColumns +
                    " WHERE m.room_id = $1 AND ($2::bigint <= 0 OR m.pos < $2) ORDER BY m.pos DESC LIMIT $3")
                       .c_str(),
                   {std::to_string(room), std::to_string(before), std::to_string(limit)});
  if (!r.ok()) return r.status();
  return ToMessages(*r);
}

Result<std::vector<StoredMessage>> MessagesAfter(PgConn& pg, int64_t room, int64_t after, int limit) {
  auto r = pg.Exec((std::string("SELECT ") + kMessageColumns +
                    " WHERE m.room_id = $1 AND m.pos > $2 ORDER BY m.pos LIMIT $3")
                       .c_str(),
                   {std::to_string(room), std::to_string(after), std::to_string(limit)});
  if (!r.ok()) return r.status();
  return ToMessages(*r);
}

}  // namespace chatpipe
