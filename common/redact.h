// Redaction: the forms a setting or a request may carry a secret in, with the secret replaced by "***",
// for whatever is about to be logged or put in an error. Redact at the source, where the value is known
// to be a URL or a conninfo; the log formatter (common/log.h) cannot tell a secret from text.
#pragma once

#include <string>
#include <string_view>

namespace chatpipe {

// A URL's password (scheme://user:PASS@host) and the values of query parameters that carry
// credentials (token, access_token, password, secret, signature and S3's X-Amz-Signature/Credential).
std::string RedactUrl(std::string_view url);
// A PostgreSQL conninfo, key=value (password='...') or URI (postgresql://user:PASS@host?password=...).
std::string RedactConninfo(std::string_view conninfo);
// `text` with every occurrence of `secret` replaced (nothing when `secret` is empty): for a message
// from a library that may quote what it was given (libpq's conninfo errors).
std::string RedactSecret(std::string_view text, std::string_view secret);

}  // namespace chatpipe
