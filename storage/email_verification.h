// The SQL of address verification (storage/migrations/008_email_verification.sql, docs/mail.md).
//
// Plain blocking functions over a PgConn, run on DbPool threads. Sign-up stores the user and queues the
// verification e-mail (an outbox row the mailer sends) in one transaction; following the link sets
// users.email_verified_at, once. The mailer e-mails mentions only to verified addresses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/email_token.h"
#include "common/status.h"
#include "storage/chat_store.h"
#include "storage/pg.h"

namespace chatpipe {

// CreateUser, and the verification e-mail of `email` with the link token `token_for(user id)`, both or
// neither. `password_hash`: HashPassword's, made off the loop.
Result<UserRow> CreateUserAndRequestVerification(PgConn& pg, const std::string& name, const std::string& email,
                                                 const std::string& password_hash,
                                                 const std::function<std::string(int64_t)>& token_for);

// Queues the verification e-mail of `user`'s address once more, with a new link good until
// `expires_unix_s` (earlier links stay good until theirs). Returns the address; kInvalidArgument
// "no_email" when the user has none (a guest), kAlreadyExists "already_verified" when it is verified.
Result<std::string> RequestVerificationAgain(PgConn& pg, const EmailTokenSigner& signer, int64_t user,
                                             int64_t expires_unix_s);

// Checks `token` against its user's current address and marks that address verified (again: no
// change). Returns the address; kUnauthenticated for a forged, expired or outdated link.
Result<std::string> VerifyEmail(PgConn& pg, const EmailTokenSigner& signer, std::string_view token, int64_t now_unix_s);

}  // namespace chatpipe
