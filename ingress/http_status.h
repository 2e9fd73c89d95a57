// HttpStatusFor: the HTTP status a refusal is answered with, the one place where a Status becomes HTTP.
//
// Each StatusCode has its status; HTTP's own refusals (a method, a version or a body encoding the
// server does not take, an upgrade to insist on, a header section over the limit) are named by the
// codec and routes that make them and refine that status here.
#pragma once

#include "common/status.h"

namespace chatpipe {

int HttpStatusFor(const Status& s);

}  // namespace chatpipe
