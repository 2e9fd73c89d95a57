// HttpStatusFor: the HTTP status a refusal is answered with, the one place where a Status becomes HTTP.
//
// Each StatusCode has its status; HTTP's own refusals (a method, a version or a body encoding the
// server does not take, an upgrade to insist on, a header section over the limit) are named by the
// codec and routes that make them and refine that status here.
//
// ForClient decides what of a Status a client may read: storage's own words (PostgreSQL's and
// Redis's error text names hosts, ports, tables and constraints) stay in the server's log.
#pragma once

#include "common/status.h"

namespace chatpipe {

int HttpStatusFor(const Status& s);

// `s` as a client sees it (HTTP body or WebSocket error frame). A failure of PostgreSQL or Redis
// (a SQLSTATE, db_unavailable, redis_unavailable) keeps its StatusCode, so its HTTP status, and gets
// a fixed name and reason: "unavailable" for a store that cannot be reached, "db_error" otherwise;
// the original is logged. Everything else is returned as it is.
Status ForClient(const Status& s);

}  // namespace chatpipe
