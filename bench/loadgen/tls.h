// The client side of wss:// for the load generator: one OpenSSL context per generator process,
// shared by its threads (an SSL_CTX is thread-safe once set up), from which every connection makes
// its SSL for a bufferevent_openssl (conn.cc).
//
// The server's certificate is always verified: against --ca-file (ops/cluster's development CA) or
// the system's roots, and for the URL's host (an IPv4 address, checked against the certificate's IP
// subjectAltName). A benchmark that skipped the check would measure a setup nobody should run.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace chatpipe::bench {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;

// TLS 1.2 or later, verifying the peer for `ip` (an IPv4 address as text) against `ca_file` (a PEM
// file), or the system's roots when it is empty.
Result<SslCtx> ClientTlsContext(const std::string& ca_file, const std::string& ip);

// The oldest OpenSSL error queued on this thread, as text, and the queue emptied ("" when none).
std::string TakeTlsError();

}  // namespace chatpipe::bench
