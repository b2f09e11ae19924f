// The longest line of audit text the recorder accepts. The sources are
// first to see a line, so the limit lives here: the line reader skips and
// reports a longer line instead of splitting it, and the parser rejects
// one from any other caller.
#pragma once

#include <cstddef>

namespace recorder {

// The kernel caps one record at about 9 KiB, so anything this long is not
// audit text.
inline constexpr size_t kMaxLineBytes = size_t{64} * 1024;

}  // namespace recorder
