// Password hashes: argon2id through libsodium (crypto_pwhash_str with its interactive limits: tens of
// milliseconds and 64 MiB each), slow on purpose, so callers run them off the event loops (ingress:
// on its PasswordPool).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

// The encoded hash (salt and parameters included) to store.
Result<std::string> HashPassword(std::string_view password);
// Whether `password` matches `hash`. Without a hash (no such user, or a guest, who has none) it is
// checked against a dummy hash all the same and fails: an unknown name takes as long as a wrong
// password, so the time of an answer does not tell which names exist.
bool VerifyPassword(const std::optional<std::string>& hash, std::string_view password);

}  // namespace chatpipe
