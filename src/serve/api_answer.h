// Answers a parsed API request on a read-only database with the
// functions and JSON renderings the `tree`, `show`, `timeline` and
// `search` commands use (src/investigate/): the web view and the
// commands cannot disagree.
#pragma once

#include <string>

#include "serve/api_request.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::serve {

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON; an error is {"error": MESSAGE}
};

ApiResponse ErrorResponse(const Status& status);

ApiResponse AnswerApiRequest(store::Database& db, const ApiRequest& request);

}  // namespace recorder::serve
