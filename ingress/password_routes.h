// Sign-up and sign-in, the two requests that hash or check a password: the hashing runs on the
// PasswordPool (Services::passwords), never on a loop and never on a DbPool thread, so a flood of
// sign-ins waits there (and hears 503 `busy` once its queue is full) while history and joins go on.
//
// Sign-in is throttled by its failures (RateLimitConfig::login_failures_per_*): each wrong password
// takes a token from the account's bucket and the address's, and while either is empty every sign-in
// to that account, or from that address, is answered 429 before any work, the right password too.
// An unknown name costs the same hash check as a wrong password and gets the same 401.
#pragma once

#include <functional>
#include <string>

#include "ingress/api_support.h"
#include "storage/chat_store.h"

namespace chatpipe {

// Creates the user (201 with the user), after the address's sign-up limit admitted it.
void SignUp(Connection& conn, std::string name, std::string email, std::string password);
// `signed_in` answers a correct password; the rest is answered here.
void SignIn(Connection& conn, std::string name, std::string password,
            std::function<void(Reply, const UserRow&)> signed_in);

}  // namespace chatpipe
