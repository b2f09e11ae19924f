// Times as a responder types them and reads them: ISO-8601, relative to
// now (-15m) or epoch seconds in; ISO-8601 in local time or UTC out. The
// parser takes `now` as an argument so it is tested without a clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder::investigate {

// Milliseconds since the Unix epoch for `text`:
//   2026-11-25T17:57:13Z, 2026-11-25T17:57:13.250+01:00, 2026-11-25 17:57,
//   2026-11-25 (midnight): without a zone, the local time of this process's TZ;
//   -30s, -15m, -2h, -3d: that long before `now_ms`; "now";
//   1795629431 (epoch seconds, optionally with a fraction: 1795629431.5).
// kInvalid with a message naming `text` and the accepted forms otherwise.
Result<int64_t> ParseTime(std::string_view text, int64_t now_ms);

// 2026-11-25T17:57:13.583Z with `utc`, else local time with its offset:
// 2026-11-25T18:57:13.583+01:00.
std::string FormatTime(int64_t ms, bool utc);

}  // namespace recorder::investigate
