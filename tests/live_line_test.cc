// The live count line of `recorder run`: the kernel's losses of this run
// only, and log lines written on lines of their own above it.
#include "daemon/live_line.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <string>

namespace recorder::daemon {
namespace {

// The kernel's counter counts from boot: 281 lost before the run and none
// since is "kernel lost 0".
TEST(LiveLine, ShowsTheKernelLossesOfThisRunOnly) {
  EXPECT_EQ(LostSinceStart(281, 281), 0u);
  EXPECT_EQ(LostSinceStart(281, 300), 19u);
  EXPECT_EQ(LostSinceStart(std::nullopt, 300), 0u);
  EXPECT_EQ(LostSinceStart(300, std::nullopt), 0u);
  EXPECT_EQ(LostSinceStart(300, 5), 0u);  // never a wrapped-around number

  LiveLineCounts counts;
  counts.source = "unicast";
  counts.per_second[0] = 3;
  counts.per_second[2] = 40;
  counts.total = 1234;
  counts.kernel_lost = LostSinceStart(281, 281);
  counts.drops = 2;
  EXPECT_EQ(LiveLineText(counts),
            "unicast: proc 3/s exit 0/s file 40/s net 0/s sec 0/s mod 0/s img 0/s failexec 0/s "
            "dns 0/s | total 1234 | kernel lost 0 | drops 2");
}

// One stream stands for the terminal: the line and the log both write to it.
struct Terminal {
  std::ostringstream out;
  std::shared_ptr<LiveLine> line =
      std::make_shared<LiveLine>([this](std::string_view text) { out << text; });
  std::shared_ptr<spdlog::logger> logger;

  Terminal() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_pattern("[%l] %v");
    logger = std::make_shared<spdlog::logger>("live-line-test", sink);
  }
};

TEST(LiveLine, LogLinesAreWrittenAboveTheLineNotGluedToIt) {
  Terminal t;
  LiveLine::WrapSinks(t.line, t.logger.get());
  t.logger->info("before the line");
  t.line->Show("counts 1");
  t.logger->info("database cleanup: nothing to do");
  t.line->Show("counts 2");
  t.line->Finish();
  t.logger->warn("after the end");
  EXPECT_EQ(t.out.str(),
            "[info] before the line\n"
            "\r\033[Kcounts 1"
            "\r\033[K[info] database cleanup: nothing to do\n"
            "\r\033[Kcounts 1"
            "\r\033[Kcounts 2\n"
            "[warning] after the end\n");
}

// What the wrapping prevents: without it the message starts at the end of
// the count line.
TEST(LiveLine, WithoutTheWrapTheLogIsGluedToTheLine) {
  Terminal t;
  t.line->Show("counts 1");
  t.logger->info("glued");
  EXPECT_EQ(t.out.str(), "\r\033[Kcounts 1[info] glued\n");
}

// A level the inner sink filters is not written, and the line is left as
// it is.
TEST(LiveLine, FilteredMessagesLeaveTheLineAlone) {
  Terminal t;
  t.logger->sinks()[0]->set_level(spdlog::level::warn);
  LiveLine::WrapSinks(t.line, t.logger.get());
  t.line->Show("counts");
  t.logger->info("filtered");
  EXPECT_EQ(t.out.str(), "\r\033[Kcounts");
}

}  // namespace
}  // namespace recorder::daemon
