#include "bench/loadgen/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace chatpipe::bench {

Result<SslCtx> ClientTlsContext(const std::string& ca_file, const std::string& ip) {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Internal("tls", "SSL_CTX_new: " + TakeTlsError());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                                     : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
  if (loaded != 1) return Status::InvalidArgument("bad_ca_file", "cannot load --ca-file " + ca_file + ": " + TakeTlsError());
  // Every SSL made from the context inherits the check of the server's address.
  if (X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx.get()), ip.c_str()) != 1)
    return Status::InvalidArgument("bad_url", "not an IP address to verify: " + ip);
  return ctx;
}

std::string TakeTlsError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace chatpipe::bench
