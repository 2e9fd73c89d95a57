// ChatStore: the SQL behind users, sessions, rooms, memberships and message history.
//
// Plain blocking functions over a PgConn, run on DbPool threads (never on an event loop). Each returns
// a Result whose Status is what the client should see: 409 for a taken name, 404 for an unknown room,
// 503 when PostgreSQL is unreachable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/moderation.h"
#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

struct UserRow {
  int64_t id = 0;
  std::string name;
  bool guest = false;
};

struct RoomRow {
  int64_t id = 0;
  std::string name;
  bool is_private = false;
  int64_t created_by = 0;
  Moderation moderation;  // per level of bad word (common/moderation.h, 013_moderation_levels.sql)
};

// `password_hash`: HashPassword's (common/password.h), made off the loop before this runs.
Result<UserRow> CreateUser(PgConn& pg, const std::string& name, const std::string& email,
                           const std::string& password_hash);
// A user to sign in as (names match case-insensitively) and their password hash, which a guest has
// not; nullopt when no user has that name. The caller checks the password (VerifyPassword).
struct LoginRow {
  UserRow user;
  std::optional<std::string> password_hash;
};
Result<std::optional<LoginRow>> FindLogin(PgConn& pg, const std::string& name);
Result<UserRow> CreateGuest(PgConn& pg);
Result<UserRow> FindUserByName(PgConn& pg, const std::string& name);

// What a user controls about their own account.
struct UserSettings {
  std::string email;  // empty for guests
  bool email_verified = false;  // the owner followed the verification link (mentions are e-mailed only then)
  bool email_notifications = true;
};
Result<UserSettings> GetUserSettings(PgConn& pg, int64_t user);
// Sets the e-mail notification switch; returns the settings as they are then.
Result<UserSettings> UpdateUserSettings(PgConn& pg, int64_t user, bool email_notifications);

// A private room's creator becomes its first member.
Result<RoomRow> CreateRoom(PgConn& pg, int64_t creator, const std::string& name, bool is_private,
                           const Moderation& moderation);
Result<RoomRow> GetRoom(PgConn& pg, int64_t room);
Result<bool> IsMember(PgConn& pg, int64_t room, int64_t user);
// The highest room id there is (0: none yet). Ids come from a sequence: a room made later has a higher one.
Result<int64_t> MaxRoomId(PgConn& pg);
// True when the user was not a member before.
Result<bool> AddMember(PgConn& pg, int64_t room, int64_t user);
// A room and, if it is private, its members' ids: what the room list needs to know of it.
struct ListedRoom {
  RoomRow room;
  std::vector<int64_t> members;  // private rooms only
};
// Every room, by name.
Result<std::vector<ListedRoom>> AllRooms(PgConn& pg);

// A row whose columns start as `messages` does (id, room_id, pos, user_id, user_name, body, ts,
// client_msg_id), optionally followed by the tags and then the image (message_images.image).
StoredMessage MessageFromRow(const PgResult& r, int row);

// Newest first: up to `limit` messages of `room` with pos < before (before <= 0: the newest).
Result<std::vector<StoredMessage>> MessagesBefore(PgConn& pg, int64_t room, int64_t before, int limit);
// Oldest first: up to `limit` messages of `room` with pos > after.
Result<std::vector<StoredMessage>> MessagesAfter(PgConn& pg, int64_t room, int64_t after, int limit);

}  // namespace chatpipe
