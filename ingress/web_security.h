// What a browser may do with ingress: the headers every response carries (no type sniffing, no
// Referer, no framing, a Content-Security-Policy), and which page origins may open a WebSocket.
//
// Pure functions of the request; the connection adds the headers (Connection::Respond), the upgrade
// route checks the Origin. Tokens ride in a header or a query parameter, not in cookies, so a foreign
// page could not use a visitor's session anyway; the Origin check is defence in depth against
// cross-site WebSocket hijacking should that ever change, and keeps other sites' pages off the server.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingress/http_request.h"

namespace chatpipe {

// On every response.
inline constexpr std::string_view kSecurityHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";

// The policy of API answers: JSON is never a document, so nothing may load from one.
inline constexpr std::string_view kApiPolicy = "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";

// The policy of the web client's files (a "Content-Security-Policy: ...\r\n" line): scripts, styles,
// fonts and the manifest from this origin only, images from it, data: (the favicon) or blob: (a
// private room's images, fetched with the token, and an image's preview before upload), audio and
// video from it or blob: (a private room's spoken messages), fetches and the WebSocket to it only (ws:// and wss:// of the request's Host spelled out, for browsers whose
// 'self' does not cover them), no inline script or style attribute, no <base>, no framing.
std::string PagePolicy(const http::Request& request);

// A Host header value that is a plain host[:port] (letters, digits, '.', '-', ':', '[', ']'), which
// can be put into a header or compared with an Origin as it is.
bool IsPlainHost(std::string_view host);

// Whether a WebSocket upgrade may go on: it has no Origin (not a browser), or its Origin is
// http:// or https:// of the Host it was sent to (a page this server served), or one of `allowed`
// ("https://chat.example.com"; case-insensitive, a trailing '/' ignored).
bool OriginAllowed(const http::Request& request, const std::vector<std::string>& allowed);

}  // namespace chatpipe
