#include "storage/email_verification.h"

namespace chatpipe {

Result<UserRow> CreateUserAndRequestVerification(PgConn& pg, const std::string& name, const std::string& email,
                                                 const std::string& password_hash,
                                                 const std::function<std::string(int64_t)>& token_for) {
  if (Status s = pg.ExecScript("BEGIN"); !s.ok()) return s;
  auto user = CreateUser(pg, name, email, password_hash);
  Status s = user.status();
  if (s.ok())
    s = pg.Exec("SELECT mail_request_verification($1, $2, $3)", {std::to_string(user->id), email, token_for(user->id)})
            .status();
  if (s.ok()) s = pg.ExecScript("COMMIT");
  if (!s.ok()) {
    (void)pg.ExecScript("ROLLBACK");
    return s;
  }
  return user;
}

Result<std::string> RequestVerificationAgain(PgConn& pg, const EmailTokenSigner& signer, int64_t user,
                                             int64_t expires) {
  const std::string id = std::to_string(user);
  auto r = pg.Exec("SELECT email, email_verified_at IS NOT NULL FROM users WHERE id = $1", {id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0 || r->IsNull(0, 0))
    return Status::InvalidArgument("no_email", "this account has no e-mail address to verify");
  if (r->Bool(0, 1)) return Status::AlreadyExists("already_verified", "the address is verified already");
  std::string email(r->Text(0, 0));
  auto queued = pg.Exec("SELECT mail_request_verification($1, $2, $3)", {id, email, signer.Issue(user, email, expires)});
  if (!queued.ok()) return queued.status();
  return email;
}

Result<std::string> VerifyEmail(PgConn& pg, const EmailTokenSigner& signer, std::string_view token, int64_t now) {
  auto claim = EmailTokenSigner::Parse(token);
  if (!claim.ok()) return claim.status();
  auto r = pg.Exec("SELECT email FROM users WHERE id = $1 AND email IS NOT NULL", {std::to_string(claim->user_id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::Unauthenticated("the link does not match this user's current address");
  std::string email(r->Text(0, 0));
  if (Status s = signer.Verify(token, email, now); !s.ok()) return s;
  // The address is compared again: it must still be the one the link was checked against.
  auto set = pg.Exec("UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1 AND email = $2",
                     {std::to_string(claim->user_id), email});
  if (!set.ok()) return set.status();
  return email;
}

}  // namespace chatpipe
