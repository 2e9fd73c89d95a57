#include "ingress/email_verification.h"

#include "common/email_token.h"
#include "ingress/api_support.h"
#include "ingress/connection.h"
#include "ingress/loop.h"
#include "ingress/rate_limits.h"
#include "ingress/services.h"
#include "storage/email_verification.h"

namespace chatpipe {

std::function<std::string(int64_t)> EmailLinkTokens(const Services& services, const std::string& email) {
  return [signer = EmailTokenSigner(services.config.token_secret), email](int64_t user) {
    return signer.Issue(user, email, NowSeconds() + kEmailLinkTtlSeconds);
  };
}

void VerifyEmailRoute(Connection& conn, const http::Request& req) {
  std::string token = req.QueryParam("token").value_or("");
  // A malformed or expired link is refused before any Redis or database work; anyone may send one.
  auto claim = EmailTokenSigner::Parse(token);
  if (!claim.ok()) return conn.RespondError(claim.status());
  if (claim->expires < NowSeconds())
    return conn.RespondError(Status::Unauthenticated("the link has expired; ask for a new one"));
  Loop* loop = &conn.loop();
  AdmitRequest(
      conn, "verify_links", "too many verification links followed from your address; try again later",
      {AddressBucket(*loop, "verify_links", conn.ClientAddress(), loop->services().config.limits.verify_links_per_address)},
      [loop, token = std::move(token)](Connection& c) {
        OnDb<std::string>(
            c,
            [signer = EmailTokenSigner(loop->services().config.token_secret), token](PgConn& pg) {
              return VerifyEmail(pg, signer, token, NowSeconds());
            },
            [](Reply reply, Result<std::string> email) {
              if (!email.ok()) return reply(email.status());
              reply(200, Json([&](JsonWriter& w) {
                      w.StartObject();
                      w.Key("verified");
                      w.Bool(true);
                      w.Key("email");
                      w.String(email->c_str());
                      w.EndObject();
                    }));
            });
      });
}

void ResendVerificationRoute(Connection& conn, const TokenUser& user) {
  if (user.guest)
    return conn.RespondError(Status::InvalidArgument("no_email", "a guest has no e-mail address to verify"));
  Loop* loop = &conn.loop();
  const RateLimitConfig& limits = loop->services().config.limits;
  AdmitRequest(
      conn, "verify_mails", "verification e-mails were sent to you, or your address, too often; try again later",
      {UserBucket(*loop, "verify_mails", user.id, limits.verify_mails_per_user),
       AddressBucket(*loop, "verify_mails", conn.ClientAddress(), limits.verify_mails_per_address)},
      [loop, uid = user.id](Connection& c) {
        OnDb<std::string>(
            c,
            [signer = EmailTokenSigner(loop->services().config.token_secret), uid](PgConn& pg) {
              return RequestVerificationAgain(pg, signer, uid, NowSeconds() + kEmailLinkTtlSeconds);
            },
            [](Reply reply, Result<std::string> email) {
              if (!email.ok()) return reply(email.status());
              reply(202, Json([&](JsonWriter& w) {
                      w.StartObject();
                      w.Key("email");
                      w.String(email->c_str());
                      w.EndObject();
                    }));
            });
      });
}

}  // namespace chatpipe
