#include "ingress/password_routes.h"

#include "common/password.h"
#include "ingress/email_verification.h"
#include "ingress/rate_limits.h"
#include "storage/email_verification.h"

namespace chatpipe {
namespace {

void CreateHashedUser(Reply reply, std::string name, std::string email, Result<std::string> hash) {
  if (!hash.ok()) return reply(hash.status());
  Loop* loop = reply.loop;
  auto tokens = EmailLinkTokens(loop->services(), email);  // binds the link to this address
  RunOnDb<UserRow>(
      loop->tasks(), loop->db(),
      [name = std::move(name), email = std::move(email), hash = std::move(*hash), tokens = std::move(tokens)](PgConn& pg) {
        return CreateUserAndRequestVerification(pg, name, email, hash, tokens);
      },
      [reply](Result<UserRow> user) {
        if (!user.ok()) return reply(user.status());
        reply(201, Json([&](JsonWriter& w) { WriteUser(w, *user); }));
      });
}

// Checks the password against the user's hash, or a dummy one when there is no such user.
void CheckPassword(Reply reply, std::string password, std::vector<SharedBucket> failures,
                   std::function<void(Reply, const UserRow&)> signed_in, Result<std::optional<LoginRow>> login) {
  if (!login.ok()) return reply(login.status());
  std::optional<std::string> hash = *login ? (*login)->password_hash : std::nullopt;
  UserRow user = *login ? (*login)->user : UserRow{};
  Loop* loop = reply.loop;
  RunOnPool<bool>(
      loop->tasks(), *loop->services().passwords,
      [hash = std::move(hash), password = std::move(password)]() -> Result<bool> {
        return VerifyPassword(hash, password);
      },
      [reply, user = std::move(user), failures = std::move(failures),
       signed_in = std::move(signed_in)](Result<bool> match) {
        if (!match.ok()) return reply(match.status());
        if (*match) return signed_in(reply, user);
        // Answered once Redis has counted the failure: the client's next try, on whatever loop or
        // instance, then finds it counted.
        TakeShared(*reply.loop, failures, 1,
                   [reply](int64_t) { reply(Status::Unauthenticated("wrong name or password")); });
      });
}

// Past the failure buckets of the name and the address (each failure takes a token from both, and
// while either is empty every sign-in waits), the login is looked up and the password checked.
void CheckPasswordUnlessFailing(Connection& conn, std::string name, std::string password,
                                std::function<void(Reply, const UserRow&)> signed_in) {
  Loop* loop = &conn.loop();
  const RateLimitConfig& limits = loop->services().config.limits;
  std::vector<SharedBucket> failures{
      AccountBucket(*loop, "login_failures", name, limits.login_failures_per_account),
      AddressBucket(*loop, "login_failures", conn.ClientAddress(), limits.login_failures_per_address)};
  Reply reply{loop, conn.id()};
  TakeShared(*loop, failures, 0,
             [reply, failures, name = std::move(name), password = std::move(password),
              signed_in = std::move(signed_in)](int64_t wait) mutable {
               Connection* c = reply.loop->FindConnection(reply.conn_id);
               if (!c) return;
               if (wait) {
                 CountRefusal("login_failures");
                 return RespondRateLimited(*c, {wait, "too many failed sign-ins for this name or from your "
                                                      "address; try again later"});
               }
               OnDb<std::optional<LoginRow>>(
                   *c, [name](PgConn& pg) { return FindLogin(pg, name); },
                   [password = std::move(password), failures = std::move(failures),
                    signed_in = std::move(signed_in)](Reply reply, Result<std::optional<LoginRow>> login) {
                     CheckPassword(reply, password, failures, signed_in, std::move(login));
                   });
             });
}

}  // namespace

void SignUp(Connection& conn, std::string name, std::string email, std::string password) {
  Loop* loop = &conn.loop();
  const RateLimitConfig& limits = loop->services().config.limits;
  AdmitRequest(conn, "signups_per_address", "too many sign-ups from your address; try again later",
               {AddressBucket(*loop, "signups", conn.ClientAddress(), limits.signups_per_address)},
               [name = std::move(name), email = std::move(email), password = std::move(password)](Connection& c) {
                 Reply reply{&c.loop(), c.id()};
                 RunOnPool<std::string>(
                     c.loop().tasks(), *c.loop().services().passwords,
                     [password] { return HashPassword(password); },
                     [reply, name, email](Result<std::string> hash) {
                       CreateHashedUser(reply, name, email, std::move(hash));
                     });
               });
}

void SignIn(Connection& conn, std::string name, std::string password,
            std::function<void(Reply, const UserRow&)> signed_in) {
  Loop* loop = &conn.loop();
  // Every attempt costs a password check on the shared pool (--password-threads): a script signing
  // in again and again with the right password would hold it as surely as a guesser.
  AdmitRequest(conn, "signins_per_address", "too many sign-ins from your address; try again later",
               {AddressBucket(*loop, "signins", conn.ClientAddress(), loop->services().config.limits.signins_per_address)},
               [name = std::move(name), password = std::move(password), signed_in = std::move(signed_in)](Connection& c) {
                 CheckPasswordUnlessFailing(c, name, password, signed_in);
               });
}

}  // namespace chatpipe
